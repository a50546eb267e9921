-- Map types whose elements mean something to the kernel, read and written from Lua
-- and used by real programs: LPM tries (an XDP program routes by them), stack trace
-- maps (a tracepoint program records into them), program arrays and maps of maps
-- (spec/bpf/map_init.bpf.c tail-calls and reads through them), devmap/cpumap values,
-- create_map's extras, and the types refused with the API to use instead.
local ayac = require "ayac"
local ffi = require "ffi"
local fast = require "ayac.fast"
local h = require "helpers"

pcall(ffi.cdef, [[
int getpid(void);
long syscall(long number, ...);
int socket(int domain, int type, int protocol);
int close(int fd);
]])

local SYS_getppid = ffi.cast("long", 110) -- x86-64

local function wait_for(what, cond, seconds)
  local deadline = os.time() + (seconds or 10)
  repeat
    local v = cond()
    if v then return v end
    ayac.sleep(0.01)
  until os.time() > deadline
  error("timed out waiting for " .. what, 2)
end

describe("LPM trie", function()
  local obj
  before_each(function() obj = assert(ayac.load(h.bpf("map_types"))) end)
  after_each(function() obj:close() end)

  local function route(addr)
    local a, b, c, d = addr:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
    local pkt = string.char(tonumber(a), tonumber(b), tonumber(c), tonumber(d)) .. ("\0"):rep(60)
    assert(obj:program("route"):test_run { data = pkt })
    return obj:map("route_result")[0]
  end

  it("takes \"addr/len\" strings and { prefixlen =, data = }; the program matches the longest", function()
    local m = obj:map("routes")
    assert.are.equal(1, m.flags) -- BPF_F_NO_PREALLOC
    m["10.0.0.0/8"] = 8
    m["10.1.0.0/16"] = 16
    assert.is_true(m:set({ prefixlen = 24, data = "10.1.2.0" }, 24))
    m[{ prefixlen = 32, data = "\10\1\2\3" }] = 32 -- raw bytes too
    assert.are.equal(32, route("10.1.2.3"))
    assert.are.equal(24, route("10.1.2.4"))
    assert.are.equal(16, route("10.1.9.9"))
    assert.are.equal(8, route("10.200.0.1"))
    assert.are.equal(0xffffffff, route("11.0.0.1"))
    -- and Lua asks the same question
    assert.are.equal(24, m:lookup_longest("10.1.2.4"))
    assert.are.equal(8, m:lookup_longest("10.9.9.9"))
    assert.is_nil(m:lookup_longest("192.168.0.1"))
    assert.are.equal(16, m["10.1.0.0/16"])
    -- the kernel's lookup is always longest-prefix within the key's length
    assert.are.equal(16, m["10.1.0.0/17"])
    assert.are.equal(8, m["10.1.0.0/15"])
    assert.are.same({ ["10.0.0.0/8"] = 8, ["10.1.0.0/16"] = 16, ["10.1.2.0/24"] = 24,
      ["10.1.2.3/32"] = 32 }, m:dump())
    assert.is_true(m:delete("10.1.2.0/24"))
    assert.are.equal(16, route("10.1.2.4"))
  end)

  it("refuses what is not a prefix of its family, naming the map", function()
    local m = obj:map("routes")
    for _, bad in ipairs { "10.0.0.0/33", "2001:db8::/32", "ten", "10.0.0.0/x" } do
      local ok, err = pcall(m.set, m, bad, 1)
      assert.is_false(ok)
      assert.matches("map 'routes': key: IPv4 LPM trie: ", err, 1, true)
    end
    assert.has_error(function() m:set({ prefixlen = 40, data = "\1\2\3\4" }, 1) end)
    assert.has_error(function() m:set({ prefixlen = 8, data = "\1\2\3\4\5" }, 1) end)
    assert.has_error(function() obj:map("route_result"):lookup_longest("10.0.0.1") end,
      "map 'route_result': lookup_longest: an lpm_trie method, this map is a array")
  end)

  it("IPv6 tries by key size, in a map of its own", function()
    local m = assert(ayac.create_map { type = "lpm_trie", key = 20, value = "u32",
      max_entries = 8, name = "routes6" })
    assert.are.equal(1, m.flags) -- added: the kernel creates no trie without it
    m["2001:db8::/32"] = 32
    m["2001:db8:1::/48"] = 48
    assert.are.equal(48, m:lookup_longest("2001:db8:1::7"))
    assert.are.equal(32, m:lookup_longest("2001:db8:2::7"))
    assert.is_nil(m:lookup_longest("::1"))
    assert.are.same({ ["2001:db8::/32"] = 32, ["2001:db8:1::/48"] = 48 }, m:dump())
    m:close()
  end)
end)

describe("stack trace map", function()
  it("returns the addresses a program recorded as exact uint64_t", function()
    local pid = ffi.C.getpid()
    local obj = assert(ayac.load(h.bpf("map_types"), { globals = { target_tgid = pid } }))
    local link = assert(obj:program("record_stack"):attach())
    local ids = obj:map("stack_ids")
    -- no stack recorded at all: the kernel walked no kernel frames (see kernel.lua)
    local deadline = os.time() + 5
    while ids[0] == 0 and os.time() < deadline do ffi.C.syscall(SYS_getppid) end
    if ids[0] == 0 and (require "kernel").no_syscall_kstack() then
      link:detach()
      obj:close()
      return
    end
    local id = wait_for("a stack from getppid()", function()
      ffi.C.syscall(SYS_getppid)
      local v = ids[0]
      return v ~= 0 and v - 1
    end)
    assert.are.equal(pid, ids[1])
    local stacks = obj:map("stacks")
    local st = stacks:get(id)
    assert.is_true(#st >= 1)
    -- compared with the raw bytes of the same element
    local raw = ffi.new("uint64_t[16]")
    assert.are.equal(0, fast.lib.ayac_fast_lookup(stacks:fd(), ffi.new("uint32_t[1]", id), raw))
    for i, a in ipairs(st) do
      assert.is_true(ffi.istype("uint64_t", a))
      assert.is_true(a == raw[i - 1])
      assert.is_true(a >= 0xffff800000000000ULL, tostring(a)) -- kernel text
    end
    assert.is_nil(stacks:get(63 == id and 62 or 63))
    assert.has_error(function() stacks:set(0, {}) end)
    -- the user stack of the same calls, as build ids (the ELF files' notes) + offsets
    local uid = wait_for("a user stack", function()
      ffi.C.syscall(SYS_getppid)
      local v = ids[2]
      return v ~= 0 and v - 1
    end)
    local frames = obj:map("user_stacks"):get(uid)
    assert.is_true(#frames >= 1)
    local valid = 0
    for _, f in ipairs(frames) do
      assert.is_true(f.status == "valid" or f.status == "ip", tostring(f.status))
      if f.status == "valid" then
        valid = valid + 1
        assert.matches("^%x+$", f.build_id)
        assert.are.equal(40, #f.build_id) -- 20 bytes
        assert.is_number(f.offset)
      else
        assert.is_not_nil(f.ip)
      end
    end
    assert.is_true(valid >= 1, "no frame with a build id") -- the host binary's, libc's
    link:detach()
    obj:close()
  end)
end)

describe("local storage maps", function()
  it("are keyed by fds: a socket's, a process's pidfd; a tp_btf program writes the task's", function()
    local obj = assert(ayac.load(h.bpf("map_types"), { globals = { target_tgid = ffi.C.getpid() } }))
    local sk = obj:map("sock_tags")
    local fd = ffi.C.socket(2, 2, 0) -- AF_INET, SOCK_DGRAM
    assert.is_true(fd >= 0)
    assert.is_nil(sk:get(fd))
    assert.is_true(sk:set(fd, 42))
    assert.are.equal(42, sk:get(fd))
    assert.are.equal(42, sk[fd])
    assert.is_true(sk:delete(fd))
    assert.is_nil(sk[fd])
    local _, err, code = sk:set(9999, 1) -- no such fd
    assert.are.equal("EBADF", code, err)
    ffi.C.close(fd)
    local pidfd = tonumber(ffi.C.syscall(ffi.cast("long", 434), ffi.cast("long", ffi.C.getpid()),
      ffi.cast("long", 0))) -- pidfd_open
    local task = obj:map("task_tags")
    assert.is_true(pidfd >= 0)
    assert.is_true(task:set(pidfd, 7))
    assert.are.equal(7, task:get(pidfd))
    -- the program adds one per getpid() of this process to the same element
    local link = assert(obj:program("count_getpid"):attach())
    for _ = 1, 5 do ffi.C.syscall(ffi.cast("long", 39)) end
    link:detach()
    assert.are.equal(12, task:get(pidfd))
    assert.has_error(function() task:dump() end, "map 'task_tags': dump: task_storage maps " ..
      "have no keys to walk; read an element by its key, a pidfd")
    ffi.C.close(pidfd)
    obj:close()
  end)
end)

describe("program arrays and maps of maps", function()
  local obj
  before_each(function() obj = assert(ayac.load(h.bpf("map_init"))) end)
  after_each(function() obj:close() end)

  local function run()
    return assert(obj:program("entry"):test_run { data = h.packet }).retval
  end

  it("m:set(i, program) fills a tail-call slot, m:delete(i) empties it", function()
    local jump = obj:map("jump")
    assert.is_true(obj:set_global("slot", 1))
    assert.are.equal(2, run()) -- XDP_PASS: slot 1 is empty
    assert.is_true(jump:set(1, obj:program("tail_b")))
    assert.are.equal(3, run()) -- XDP_TX from tail_b
    assert.are.equal(obj:program("tail_b"):info().id, jump[1]) -- ids come back
    assert.is_true(jump:delete(1))
    assert.are.equal(2, run())
  end)

  it("m:set(i, inner_map) puts a map the program then writes to", function()
    local outer = obj:map("outer")
    local mine = assert(ayac.create_map { type = "array", key = "u32", value = "u64",
      max_entries = 1, name = "mine" })
    assert.is_true(outer:set(2, mine))
    assert.are.equal(mine:info().id, outer[2])
    assert.is_true(obj:set_global("which", 2))
    run()
    run()
    assert.are.equal(2, mine[0])
    -- a map unlike the template is refused by the kernel
    local wrong = assert(ayac.create_map { type = "hash", key = "u32", value = "u64",
      max_entries = 1, name = "wrong" })
    local ok, err, code = outer:set(0, wrong)
    assert.is_nil(ok)
    assert.are.equal("EINVAL", code, err)
    wrong:close()
    mine:close()
  end)

  it("create_map makes maps of maps from an inner spec or an inner map", function()
    local hom = assert(ayac.create_map { type = "hash_of_maps", key = "u32", max_entries = 4,
      name = "hom", inner = { type = "array", key = "u32", value = "u64", max_entries = 8 } })
    assert.are.equal(4, hom.value_size)
    local a = assert(ayac.create_map { type = "array", key = "u32", value = "u64",
      max_entries = 8, name = "inner_a" })
    assert.is_true(hom:set(7, a))
    assert.are.equal(a:info().id, hom[7])
    local aom = assert(ayac.create_map { type = "array_of_maps", max_entries = 2, name = "aom",
      inner = a })
    assert.is_true(aom:set(1, a))
    assert.are.same({ [0] = nil, [1] = a:info().id }, aom:dump())
    local bad, err = ayac.create_map { type = "hash_of_maps", key = "u32", max_entries = 4,
      name = "hom2", inner = { type = "array", key = "u32", value = "u64", max_entries = 0 } }
    assert.is_nil(bad)
    assert.matches("inner map: ", err, 1, true)
    aom:close()
    a:close()
    hom:close()
  end)
end)

describe("allow_unsupported_maps", function()
  local path = h.bpf("unsupported_map") -- a map of type 99, which no kernel has

  it("off: the load fails naming the map", function()
    local obj, err, code = ayac.load(path)
    assert.is_nil(obj)
    assert.are.equal("EINVAL", code)
    assert.matches("create map 'from_the_future'", err, 1, true)
  end)

  it("on: the map is left uncreated; a program using it is refused by name", function()
    local obj, err = ayac.load(path, { allow_unsupported_maps = true })
    assert.is_nil(obj)
    assert.matches("program 'uses_future' uses map 'from_the_future', which was not created",
      err, 1, true)
    obj = assert(ayac.load(path, { allow_unsupported_maps = true,
      autoload = { uses_future = false } }))
    local m = obj:map("from_the_future")
    assert.are.equal(-1, m:fd())
    local v, merr, code = m:get(0)
    assert.is_nil(v)
    assert.are.equal("EBADF", code, merr)
    assert.are.equal(2, assert(obj:program("uses_plain"):test_run { data = h.packet }).retval)
    assert.are.equal(1, obj:map("plain")[0])
    obj:close()
  end)
end)

describe("mmap", function()
  it("maps a BPF_F_MMAPABLE array: the pointer and the syscalls see the same memory", function()
    local a = assert(ayac.create_map { type = "array", key = "u32", value = "u64",
      max_entries = 600, flags = 1024, name = "mapped" })
    local p, size = assert(a:mmap())
    assert.are.equal(8192, size) -- 600 * 8 bytes, whole pages
    local q = ffi.cast("uint64_t *", p)
    a[3] = 77
    assert.is_true(q[3] == 77)
    q[599] = 0x8000000000000001ULL
    assert.is_true(a[599] == 0x8000000000000001ULL)
    local p2 = a:mmap()
    assert.are.equal(ffi.cast("uintptr_t", p), ffi.cast("uintptr_t", p2)) -- mapped once
    a:close()
    assert.has_error(function() a:mmap() end)
  end)

  it("refuses maps that cannot be mapped, naming the ones that can", function()
    local m = assert(ayac.create_map { type = "array", key = "u32", value = "u64",
      max_entries = 4, name = "plain" })
    local p, err, code = m:mmap()
    assert.is_nil(p)
    assert.are.equal("EINVAL", code)
    assert.matches("only arrays created with BPF_F_MMAPABLE", err, 1, true)
    m:close()
  end)

  it("maps an arena", function()
    local f = ayac.features()
    if not f.map_types.arena then
      pending("no arena maps here: " .. tostring(f.unknown["map_types.arena"] or "kernel < 6.9"))
      return
    end
    local m = assert(ayac.create_map { type = "arena", max_entries = 2, name = "arena" })
    local p, size = assert(m:mmap())
    assert.are.equal(2 * 4096, size)
    assert.is_not_nil(p)
    m:close()
  end)
end)

describe("create_map of other types", function()
  it("devmap and cpumap values read as their kernel structs do by BTF", function()
    local d = assert(ayac.create_map { type = "devmap", value = 8, max_entries = 2, name = "dm" })
    assert.is_true(d:set(0, 1)) -- lo
    assert.are.same({ ifindex = 1, bpf_prog = { fd = 0, id = 0 } }, d[0])
    assert.is_true(d:set(1, { ifindex = 1 }))
    assert.are.same({ ifindex = 1, bpf_prog = { fd = 0, id = 0 } }, d[1])
    assert.is_true(d:set(1, { ifindex = 1, bpf_prog = { fd = 0 } }))
    -- with a program to run on the frames redirected there, as a handle
    local obj = assert(ayac.load(h.bpf("net_xdp_tc")))
    local prog = obj:program("xdp_devmap_pass")
    assert.is_true(d:set(1, { ifindex = 1, prog = prog }))
    assert.are.same({ ifindex = 1, bpf_prog = { fd = prog:id(), id = prog:id() } }, d[1])
    obj:close()
    assert.has_error(function() d:set(0, "lo") end)
    d:close()
    local c = assert(ayac.create_map { type = "cpumap", value = 8, max_entries = 1, name = "cm" })
    assert.is_true(c:set(0, { qsize = 192 }))
    assert.are.same({ qsize = 192, bpf_prog = { fd = 0, id = 0 } }, c[0])
    c:close()
  end)

  it("legacy cgroup storage keys are { cgroup_inode_id =, attach_type = }", function()
    local m = assert(ayac.create_map { type = "cgroup_storage", key = 16, value = "u64",
      name = "cgstore" })
    assert.is_nil(m:get { cgroup_inode_id = 1, attach_type = 0 }) -- no program attached yet
    assert.are.same({}, m:dump())
    local ok, err = pcall(m.get, m, 5)
    assert.is_false(ok)
    assert.matches("map 'cgstore': key: { cgroup_inode_id =, attach_type = } expected", err, 1, true)
    m:close()
  end)

  it("xskmap, devmap and cpumap values of 4 bytes are numbers", function()
    local d = assert(ayac.create_map { type = "devmap", value = 4, max_entries = 2, name = "dm4" })
    assert.is_true(d:set(0, 1)) -- lo
    assert.are.equal(1, d[0])
    d:close()
    local x = assert(ayac.create_map { type = "xskmap", max_entries = 2, name = "xsk" })
    assert.are.equal(4, x.value_size)
    local ok, err, code = x:set(0, 0) -- stdin is no AF_XDP socket
    assert.is_nil(ok)
    assert.is_string(code, err)
    x:close()
  end)

  it("bloom filters take map_extra (hash functions)", function()
    local b = assert(ayac.create_map { type = "bloom_filter", value = "u32", max_entries = 64,
      map_extra = 3, name = "bloom" })
    assert.are.equal(0, b.key_size)
    assert.is_true(b:push(5))
    assert.is_true(b:contains(5))
    assert.has_error(function() b:dump() end,
      "map 'bloom': dump: bloom_filter maps have no keys; use contains(v)")
    local q = assert(ayac.create_map { type = "queue", value = "u32", max_entries = 4, name = "q" })
    assert.has_error(function() q:count() end,
      "map 'q': count: queue maps have no keys; use pop() and peek()")
    q:close()
    b:close()
  end)

  it("storage maps need an object's BTF: a clear refusal", function()
    local m, err, code = ayac.create_map { type = "task_storage", value = "u64", name = "ts" }
    assert.is_nil(m)
    assert.are.equal("ENOTSUP", code)
    assert.matches("declare it there and use obj:map(name)", err, 1, true)
  end)

  it("event buffers and struct_ops refuse element access, naming the API", function()
    local rb = assert(ayac.create_map { type = "ringbuf", max_entries = 4096, name = "rb" })
    assert.has_error(function() rb:get(0) end,
      "map 'rb': no element access: ring buffer maps are read with ayac.ringbuf(map, handler)")
    assert.has_error(function() rb:dump() end)
    local pe = assert(ayac.create_map { type = "perf_event_array", max_entries = 1, name = "pe" })
    local ok, err = pcall(pe.set, pe, 0, 1)
    assert.is_false(ok)
    assert.matches("ayac.perfbuf(map, handler)", err, 1, true)
    local ur = assert(ayac.create_map { type = "user_ringbuf", max_entries = 4096, name = "ur" })
    ok, err = pcall(ur.count, ur)
    assert.is_false(ok)
    assert.matches("ayac.user_ringbuf(map):submit(v)", err, 1, true)
    rb:close()
    pe:close()
    ur:close()
  end)
end)
