-- Files that are not what they claim, and files far too large: the header is checked
-- before anything else is read, the size before anything is mapped, and nothing is
-- ever copied whole. Each open runs in a fresh host process (spec/support/
-- open_probe.lua) that reports the call's wall time and the process's peak RSS
-- (VmHWM) before and after: a 2 GB file must cost neither time nor memory.
local h = require "helpers"

local GB2 = 2 * 1024 * 1024 * 1024
local MAX_MS = 100
local MAX_RSS_KB = 50 * 1024
-- The sanitizer build's runtime alone takes more than that; there only the growth counts.
local ASAN = h.bin:find("asan", 1, true) ~= nil

local function sh(cmd)
	local r = os.execute(cmd)
	return r == true or r == 0
end

-- A sparse file of `size` bytes that starts with `head`.
local function sparse(head, size)
	local p = h.tmpname(".big")
	h.write(p, head)
	assert(sh("truncate -s " .. size .. " '" .. p .. "'"))
	return p
end

local function probe(what, path, extra)
	local out, ok = h.capture(string.format("%s %s/spec/support/open_probe.lua %s '%s' %s",
		h.bin, h.root, what, path, extra or ""))
	assert(ok, "open_probe failed: " .. out)
	local ms, hwm0, hwm, code, msg = out:match("^ms=(%S+) hwm0=(%d+) hwm=(%d+) code=(%S+) msg=(.-)\n?$")
	assert(ms, "unexpected probe output: " .. out)
	return { ms = tonumber(ms), hwm0 = tonumber(hwm0), hwm = tonumber(hwm), code = code, msg = msg }
end

local function assert_cheap(r)
	assert.is_true(r.ms < MAX_MS, string.format("took %.1f ms (limit %d)", r.ms, MAX_MS))
	assert.is_true(r.hwm - r.hwm0 < 8 * 1024,
		string.format("peak RSS grew by %d kB (from %d kB)", r.hwm - r.hwm0, r.hwm0))
	if not ASAN then
		assert.is_true(r.hwm < MAX_RSS_KB, string.format("peak RSS %d kB", r.hwm))
	end
end

describe("a 2 GB sparse file", function()
	local elf_head = h.read(h.bpf("pinning")):sub(1, 64) -- a real BPF object's ELF header
	local files = {}
	local function make(head)
		local p = sparse(head, GB2)
		files[#files + 1] = p
		return p
	end
	after_each(function()
		for _, p in ipairs(files) do os.remove(p) end
		files = {}
	end)

	it("given as an object fails at once: not an ELF file", function()
		local r = probe("object", make(""))
		assert.equal("EBADELF", r.code)
		assert.matches("not an ELF file", r.msg, 1, true)
		assert_cheap(r)
	end)

	it("with a BPF object's ELF header fails at once on its size", function()
		local p = make(elf_head)
		local r = probe("object", p)
		assert.equal("EFBIG", r.code)
		assert.matches(p, r.msg, 1, true)
		assert.matches("2147483648 bytes", r.msg, 1, true)
		assert.matches("at most 1024 MiB", r.msg, 1, true)
		assert_cheap(r)
	end)

	it("with another machine's ELF header is refused by its header, not read", function()
		local head = elf_head:sub(1, 18) .. "\62\0" .. elf_head:sub(21) -- e_machine = EM_X86_64
		local r = probe("object", make(head))
		assert.equal("EBADELF", r.code)
		assert.matches("not EM_BPF", r.msg, 1, true)
		assert_cheap(r)
	end)

	it("given as BTF fails at once: neither raw BTF nor ELF", function()
		local r = probe("btf", make(""))
		assert.equal("EBTF", r.code)
		assert.matches("neither raw BTF nor an ELF file", r.msg, 1, true)
		assert_cheap(r)
	end)

	it("with the raw BTF magic fails at once on its size", function()
		local r = probe("btf", make("\159\235\1\0\24\0\0\0"))
		assert.equal("EFBIG", r.code)
		assert.matches("at most 1024 MiB", r.msg, 1, true)
		assert_cheap(r)
	end)

	it("with an ELF header, searched for .BTF, reads only its headers", function()
		local r = probe("btf", make(elf_head))
		assert.equal("ENOENT", r.code) -- the headers say there is no .BTF
		assert.matches("no .BTF section", r.msg, 1, true)
		assert_cheap(r)
	end)
end)

describe("objects and BTF from files", function()
	it("still open, mapped, as before (an object with BTF, its own BTF, vmlinux)", function()
		local ayac = require "ayac"
		local obj = assert(ayac.open(h.bpf("pinning")))
		assert.is_truthy(obj:program("mark"))
		assert.is_truthy(obj:btf():find("xdp_md"))
		obj:close()
		local btf = assert(ayac.btf.load(h.bpf("pinning")))
		assert.is_truthy(btf:find("xdp_md"))
		local vmlinux = assert(ayac.btf.load("/sys/kernel/btf/vmlinux"))
		assert.is_truthy(vmlinux:find("task_struct"))
	end)

	it("refuse an empty file, a directory and a FIFO with the reason, without waiting", function()
		local ayac = require "ayac"
		local p = h.tmpname(".o")
		h.write(p, "")
		local ok, msg, code = ayac.open(p)
		os.remove(p)
		assert.is_nil(ok)
		assert.equal("EBADELF", code)
		assert.matches("not an ELF file", msg, 1, true)
		ok, msg, code = ayac.open("/tmp")
		assert.is_nil(ok)
		assert.equal("EISDIR", code)
		assert.matches("not a regular file", msg, 1, true)
		local fifo = h.tmpname(".fifo")
		assert.is_true(sh("mkfifo '" .. fifo .. "'"))
		ok, msg, code = ayac.open(fifo)
		local btf, bmsg, bcode = ayac.btf.load(fifo)
		os.remove(fifo)
		assert.is_nil(ok)
		assert.equal("EINVAL", code)
		assert.matches("not a regular file", msg, 1, true)
		assert.is_nil(btf)
		assert.equal("EINVAL", bcode)
		assert.matches(fifo, bmsg, 1, true)
	end)
end)
