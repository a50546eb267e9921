-- The real-world object corpus: BPF objects extracted from Debian's libbpf-tools
-- binaries by scripts/extract-libbpf-tools, and a small ELF/BTF reader (LuaJIT ffi,
-- independent of ayac) that says what each object needs from a loader: program
-- sections, data sections, maps, CO-RE relocations, extern symbols.
--
--   local corpus = dofile("spec/support/corpus.lua")
--   local dir = corpus.ensure()            -- extracts on first use
--   for _, o in ipairs(corpus.objects(dir)) do local a = corpus.analyse(o.path) ... end
--
-- Run as a script it prints the analysis:
--   luajit spec/support/corpus.lua [dir] [--verbose]

local ffi = require "ffi"
local bit = require "bit"
local band, rshift = bit.band, bit.rshift

pcall(ffi.cdef, [[
typedef struct __attribute__((packed)) {
	uint8_t  e_ident[16];
	uint16_t e_type, e_machine;
	uint32_t e_version;
	uint64_t e_entry, e_phoff, e_shoff;
	uint32_t e_flags;
	uint16_t e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx;
} corpus_Elf64_Ehdr;
typedef struct __attribute__((packed)) {
	uint32_t sh_name, sh_type;
	uint64_t sh_flags, sh_addr, sh_offset, sh_size;
	uint32_t sh_link, sh_info;
	uint64_t sh_addralign, sh_entsize;
} corpus_Elf64_Shdr;
typedef struct __attribute__((packed)) {
	uint32_t st_name;
	uint8_t  st_info, st_other;
	uint16_t st_shndx;
	uint64_t st_value, st_size;
} corpus_Elf64_Sym;
typedef struct __attribute__((packed)) {
	uint64_t r_offset, r_info;
} corpus_Elf64_Rel;
typedef struct __attribute__((packed)) {
	uint8_t code, regs;
	int16_t off;
	int32_t imm;
} corpus_bpf_insn;
]])

local M = {}

-- The repository root: $AYAC_ROOT (set by scripts/run-specs), else two levels above
-- this file (spec/support/corpus.lua).
local function here_root()
	local src = debug.getinfo(1, "S").source
	local dir = src:sub(1, 1) == "@" and src:sub(2):match("^(.*)/[^/]*$") or "."
	return dir .. "/../.."
end
M.root = os.getenv("AYAC_ROOT") or here_root()
-- Where the corpus lives: $AYAC_CORPUS_DIR, else <build>/libbpf-tools with <build> the
-- build tree run-specs exports ($AYAC_BUILD), else build/ under the root.
M.default_dir = os.getenv("AYAC_CORPUS_DIR")
	or ((os.getenv("AYAC_BUILD") or (M.root .. "/build")) .. "/libbpf-tools")
M.extractor = M.root .. "/scripts/extract-libbpf-tools"

local function file_exists(path)
	local f = io.open(path, "rb")
	if f then f:close() return true end
	return false
end

local function shell_quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

-- Extract the corpus unless <dir>/.stamp is there. Returns dir, or nil and a message.
function M.ensure(dir)
	dir = dir or M.default_dir
	if file_exists(dir .. "/.stamp") then return dir end
	local cmd = shell_quote(M.extractor) .. " " .. shell_quote(dir) .. " >/dev/null"
	local ok = os.execute(cmd)
	if (ok == true or ok == 0) and file_exists(dir .. "/.stamp") then return dir end
	return nil, "could not extract the corpus: " .. cmd .. " failed (is libbpf-tools installed?)"
end

-- Sorted { name = "biolatency", path = "<dir>/biolatency.bpf.o" } of a corpus dir.
function M.objects(dir)
	dir = dir or M.default_dir
	local list = {}
	local p = io.popen("ls -A " .. shell_quote(dir) .. " 2>/dev/null")
	if p then
		for file in p:lines() do
			local name = file:match("^(.+)%.bpf%.o$")
			if name then list[#list + 1] = { name = name, path = dir .. "/" .. file } end
		end
		p:close()
	end
	table.sort(list, function(a, b) return a.name < b.name end)
	return list
end

---------------------------------------------------------------------------------------
-- ELF and BTF reading. Every read is bounds-checked; a malformed object raises an
-- error string, which analyse() turns into `nil, message`.

local SHT_PROGBITS, SHT_SYMTAB, SHT_NOBITS, SHT_REL = 1, 2, 8, 9
local SHF_EXECINSTR = 0x4
local SHN_UNDEF, SHN_ABS, SHN_COMMON = 0, 0xfff1, 0xfff2
local STB_GLOBAL, STB_WEAK = 1, 2
local STT_OBJECT, STT_FUNC, STT_SECTION = 1, 2, 3

M.map_type_names = {
	[0] = "unspec", "hash", "array", "prog_array", "perf_event_array", "percpu_hash",
	"percpu_array", "stack_trace", "cgroup_array", "lru_hash", "lru_percpu_hash",
	"lpm_trie", "array_of_maps", "hash_of_maps", "devmap", "sockmap", "cpumap", "xskmap",
	"sockhash", "cgroup_storage", "reuseport_sockarray", "percpu_cgroup_storage",
	"queue", "stack", "sk_storage", "devmap_hash", "struct_ops", "ringbuf",
	"inode_storage", "task_storage", "bloom_filter", "user_ringbuf", "cgrp_storage",
	"arena",
}

local BTF_KIND = {
	[0] = "UNKN", "INT", "PTR", "ARRAY", "STRUCT", "UNION", "ENUM", "FWD", "TYPEDEF", "VOLATILE",
	"CONST", "RESTRICT", "FUNC", "FUNC_PROTO", "VAR", "DATASEC", "FLOAT", "DECL_TAG",
	"TYPE_TAG", "ENUM64",
}
M.btf_kind_names = BTF_KIND

local function check(cond, fmt, ...)
	if not cond then error(string.format(fmt, ...), 0) end
end

local function cstr(base, len, off)
	check(off >= 0 and off < len, "string offset %d outside its table (%d bytes)", off, len)
	local p = base + off
	local n = 0
	while off + n < len and p[n] ~= 0 do n = n + 1 end
	check(off + n < len, "unterminated string at %d", off)
	return ffi.string(p, n)
end

local function u32(p) return ffi.cast("const uint32_t *", p)[0] end
local function u16(p) return ffi.cast("const uint16_t *", p)[0] end

-- Parse a .BTF image: types (1-based ids), strings. Returns { types = {...}, str = fn }.
local function parse_btf(base, len)
	check(len >= 24, ".BTF: %d bytes, shorter than its header", len)
	check(u16(base) == 0xeB9F, ".BTF: bad magic 0x%04x", u16(base))
	local hdr_len = u32(base + 4)
	local type_off, type_len = u32(base + 8), u32(base + 12)
	local str_off, str_len = u32(base + 16), u32(base + 20)
	check(hdr_len >= 24 and hdr_len + type_off + type_len <= len
		and hdr_len + str_off + str_len <= len, ".BTF: header sections outside the data")
	local sbase = base + hdr_len + str_off
	local function str(off) return cstr(sbase, str_len, off) end
	local types = {}
	local kinds = {}
	local p, stop = hdr_len + type_off, hdr_len + type_off + type_len
	while p < stop do
		check(p + 12 <= stop, ".BTF: truncated type %d", #types + 1)
		local name_off, info, size_type = u32(base + p), u32(base + p + 4), u32(base + p + 8)
		local kind = band(rshift(info, 24), 0x1f)
		local vlen = band(info, 0xffff)
		local kflag = rshift(info, 31)
		local t = { kind = BTF_KIND[kind] or ("KIND" .. kind), name = str(name_off),
			vlen = vlen, kflag = kflag, size = size_type, type = size_type }
		kinds[t.kind] = (kinds[t.kind] or 0) + 1
		local q = base + p + 12
		local extra
		if kind == 1 or kind == 14 or kind == 17 then -- INT, VAR (linkage), DECL_TAG
			extra = 4
			t.extra = u32(q)
		elseif kind == 3 then -- ARRAY
			extra = 12
			t.type, t.index_type, t.nelems = u32(q), u32(q + 4), u32(q + 8)
		elseif kind == 4 or kind == 5 then -- STRUCT, UNION
			extra = 12 * vlen
			check(p + 12 + extra <= stop, ".BTF: truncated members of type %d", #types + 1)
			t.members = {}
			for i = 0, vlen - 1 do
				local m = q + 12 * i
				t.members[i + 1] = { name = str(u32(m)), type = u32(m + 4), offset = u32(m + 8) }
			end
		elseif kind == 6 or kind == 13 then -- ENUM, FUNC_PROTO
			extra = 8 * vlen
		elseif kind == 15 then -- DATASEC
			extra = 12 * vlen
			check(p + 12 + extra <= stop, ".BTF: truncated DATASEC %d", #types + 1)
			t.vars = {}
			for i = 0, vlen - 1 do
				local m = q + 12 * i
				t.vars[i + 1] = { type = u32(m), offset = u32(m + 4), size = u32(m + 8) }
			end
		elseif kind == 19 then -- ENUM64
			extra = 12 * vlen
		elseif kind == 12 then -- FUNC: vlen is the linkage
			extra = 0
			t.linkage = vlen
		else
			extra = 0
		end
		check(p + 12 + extra <= stop, ".BTF: truncated type %d", #types + 1)
		types[#types + 1] = t
		p = p + 12 + extra
	end
	return { types = types, str = str, kinds = kinds }
end

local function btf_skip_mods(btf, id)
	local n = 0
	while id ~= 0 and n < 64 do
		local t = btf.types[id]
		if not t then return nil end
		if t.kind == "TYPEDEF" or t.kind == "VOLATILE" or t.kind == "CONST"
			or t.kind == "RESTRICT" or t.kind == "TYPE_TAG" then
			id = t.type
		else
			return t, id
		end
		n = n + 1
	end
end

-- A BTF-defined map: `struct { __uint(type, X); __type(key, K); ... } name SEC(".maps")`.
local function btf_map_def(btf, var)
	local st = btf_skip_mods(btf, var.type)
	if not st or st.kind ~= "STRUCT" then return nil end
	local def = {}
	for _, m in ipairs(st.members) do
		local mt = btf_skip_mods(btf, m.type)
		if mt and mt.kind == "PTR" then
			local target = btf_skip_mods(btf, mt.type)
			if m.name == "key" or m.name == "value" then
				def[m.name] = true
			elseif target and target.kind == "ARRAY" then -- __uint(name, val)
				def[m.name] = target.nelems
			end
		elseif mt and mt.kind == "ARRAY" and m.name == "values" then
			def.values = true -- inner map or program array initialiser
		end
	end
	return def
end

-- .BTF.ext: func_info / line_info / core_relo record counts.
local function parse_btf_ext(base, len)
	check(len >= 24, ".BTF.ext: %d bytes, shorter than its header", len)
	check(u16(base) == 0xeB9F, ".BTF.ext: bad magic 0x%04x", u16(base))
	local hdr_len = u32(base + 4)
	check(hdr_len >= 24 and hdr_len <= len, ".BTF.ext: hdr_len %d", hdr_len)
	local function count(off, sz, what)
		if sz == 0 then return 0, {} end
		local start = hdr_len + off
		check(start + sz <= len and sz >= 4, ".BTF.ext: %s outside the data", what)
		local rec = u32(base + start)
		check(rec > 0, ".BTF.ext: %s record size 0", what)
		local n, per_sec = 0, {}
		local p, stop = start + 4, start + sz
		while p < stop do
			check(p + 8 <= stop, ".BTF.ext: truncated %s section header", what)
			local sec_off, num = u32(base + p), u32(base + p + 4)
			p = p + 8 + num * rec
			check(p <= stop, ".BTF.ext: %s records outside the data", what)
			n = n + num
			per_sec[#per_sec + 1] = { sec_name_off = sec_off, count = num }
		end
		return n, per_sec
	end
	local r = { hdr_len = hdr_len }
	r.func_info = count(u32(base + 8), u32(base + 12), "func_info")
	r.line_info = count(u32(base + 16), u32(base + 20), "line_info")
	if hdr_len >= 32 then
		r.core_relo, r.core_relo_secs = count(u32(base + 24), u32(base + 28), "core_relo")
	else
		r.core_relo, r.core_relo_secs = 0, {}
	end
	return r
end

local function is_kconfig_name(name)
	return name == "LINUX_KERNEL_VERSION" or name == "LINUX_HAS_BPF_COOKIE"
		or name == "LINUX_HAS_SYSCALL_WRAPPER" or name:match("^CONFIG_") ~= nil
end

-- Analyse the object bytes. Returns a table:
--   programs   { { section=, prefix=, funcs = {name,...}, size= } }  (executable sections)
--   prefixes   set of SEC() prefixes ("tracepoint", "kprobe", ...)
--   text       size of .text (subprograms) in bytes
--   sections   set of data/special section names present (.maps, .rodata, .bss, ...)
--   maps       { { name=, type=, type_name=, max_entries=, key_size=, value_size=, pinning= } }
--   legacy_maps  true when a "maps" section (struct bpf_map_def) is present
--   externs    { { name=, kind = "kconfig"|"ksym"|"kfunc"|"unknown", weak = bool } }
--   core_relo, func_info, line_info   .BTF.ext record counts (0 when absent)
--   has_btf, has_btf_ext, btf_kinds  (kind name -> count)
--   bpf2bpf_calls   pseudo calls to subprograms (relocated or not)
--   datasec_unfixed   DATASECs with size 0 (clang leaves them for the loader to fix)
--   license, kversion
function M.analyse_bytes(data)
	local len = #data
	local base = ffi.cast("const uint8_t *", data)
	check(len >= 64, "%d bytes: shorter than an ELF header", len)
	local eh = ffi.cast("const corpus_Elf64_Ehdr *", base)
	check(ffi.string(eh.e_ident, 4) == "\127ELF", "not ELF")
	check(eh.e_ident[4] == 2 and eh.e_ident[5] == 1, "not ELF64 little-endian")
	check(eh.e_type == 1 and eh.e_machine == 247, "not a BPF relocatable object")
	check(eh.e_shentsize == 64, "e_shentsize %d", eh.e_shentsize)
	local shoff, shnum = tonumber(eh.e_shoff), eh.e_shnum
	check(shnum > 0 and shoff + shnum * 64 <= len, "section headers outside the file")
	local sh = ffi.cast("const corpus_Elf64_Shdr *", base + shoff)
	check(eh.e_shstrndx < shnum, "e_shstrndx out of range")
	local shstr = sh[eh.e_shstrndx]
	local shstr_off, shstr_len = tonumber(shstr.sh_offset), tonumber(shstr.sh_size)
	check(shstr_off + shstr_len <= len, "section name table outside the file")

	local secs = {}
	for i = 0, shnum - 1 do
		local s = sh[i]
		local off, size = tonumber(s.sh_offset), tonumber(s.sh_size)
		if s.sh_type ~= SHT_NOBITS then
			check(off + size <= len, "section %d outside the file", i)
		end
		secs[i] = { index = i, name = i == 0 and "" or cstr(base + shstr_off, shstr_len, s.sh_name),
			type = s.sh_type, flags = tonumber(s.sh_flags), off = off, size = size,
			link = s.sh_link, info = s.sh_info, entsize = tonumber(s.sh_entsize) }
	end

	local r = { programs = {}, prefixes = {}, sections = {}, maps = {}, externs = {},
		core_relo = 0, func_info = 0, line_info = 0, text = 0, bpf2bpf_calls = 0,
		btf_kinds = {}, datasec_unfixed = {}, nsections = shnum, shoff = shoff }
	local byname = {}
	for i = 1, shnum - 1 do
		local s = secs[i]
		byname[s.name] = s
		if band(s.flags, SHF_EXECINSTR) ~= 0 and s.type == SHT_PROGBITS then
			if s.name == ".text" then
				r.text = s.size
			elseif s.size > 0 then
				local prefix = s.name:match("^([^/]+)/") or s.name
				r.programs[#r.programs + 1] = { section = s.name, prefix = prefix,
					size = s.size, index = i, funcs = {} }
				r.prefixes[prefix] = true
			end
		elseif s.type ~= SHT_REL and s.type ~= SHT_SYMTAB and s.name ~= ".strtab"
			and s.name ~= ".llvm_addrsig" then
			r.sections[s.name] = s.size
		end
	end
	r.legacy_maps = byname["maps"] ~= nil
	if byname["license"] then
		local s = byname["license"]
		r.license = ffi.string(base + s.off, s.size):match("^[^%z]*")
	end
	if byname["version"] and byname["version"].size == 4 then
		r.kversion = u32(base + byname["version"].off)
	end

	-- Symbols: program function names, externs, and which section each symbol is in.
	local symtab
	for i = 1, shnum - 1 do if secs[i].type == SHT_SYMTAB then symtab = secs[i] end end
	local syms = {}
	if symtab then
		check(symtab.entsize == 24 and symtab.link < shnum, ".symtab: bad entsize or link")
		local strs = secs[symtab.link]
		local st = ffi.cast("const corpus_Elf64_Sym *", base + symtab.off)
		local prog_by_index = {}
		for _, p in ipairs(r.programs) do prog_by_index[p.index] = p end
		for i = 0, symtab.size / 24 - 1 do
			local y = st[i]
			local name = cstr(base + strs.off, strs.size, y.st_name)
			local bind, typ = rshift(y.st_info, 4), band(y.st_info, 0xf)
			syms[i] = { name = name, bind = bind, type = typ, shndx = y.st_shndx,
				value = tonumber(y.st_value) }
			if typ == STT_FUNC and prog_by_index[y.st_shndx] then
				local f = prog_by_index[y.st_shndx].funcs
				f[#f + 1] = name
			end
			if i > 0 and y.st_shndx == SHN_UNDEF and name ~= ""
				and (bind == STB_GLOBAL or bind == STB_WEAK) then
				r.externs[#r.externs + 1] = { name = name, weak = bind == STB_WEAK,
					func = typ == STT_FUNC }
			end
		end
	end

	-- Relocations in program sections: calls to subprograms.
	for i = 1, shnum - 1 do
		local s = secs[i]
		if s.type == SHT_REL and s.info < shnum and band(secs[s.info].flags, SHF_EXECINSTR) ~= 0 then
			local target = secs[s.info]
			local rel = ffi.cast("const corpus_Elf64_Rel *", base + s.off)
			for k = 0, s.size / 16 - 1 do
				local roff = tonumber(rel[k].r_offset)
				local symi = tonumber(rshift(rel[k].r_info, 32))
				check(roff + 8 <= target.size, "%s: relocation outside its section", s.name)
				local insn = ffi.cast("const corpus_bpf_insn *", base + target.off + roff)
				if insn.code == 0x85 and band(rshift(insn.regs, 4), 0xf) == 1 then
					r.bpf2bpf_calls = r.bpf2bpf_calls + 1
				end
				local sy = syms[symi]
				if sy and sy.shndx ~= SHN_UNDEF and sy.shndx < shnum then
					sy.section = secs[sy.shndx].name
				end
			end
		end
	end
	-- Unrelocated pseudo calls (static subprogram in the same section).
	for _, p in ipairs(r.programs) do
		local insn = ffi.cast("const corpus_bpf_insn *", base + secs[p.index].off)
		local n = 0
		for k = 0, secs[p.index].size / 8 - 1 do
			if insn[k].code == 0x85 and band(rshift(insn[k].regs, 4), 0xf) == 1 then n = n + 1 end
		end
		p.pseudo_calls = n
	end

	-- BTF: map definitions, extern kinds, kinds used.
	local btf
	if byname[".BTF"] then
		r.has_btf = true
		local s = byname[".BTF"]
		btf = parse_btf(base + s.off, s.size)
		r.btf_kinds = btf.kinds
		r.btf_types = #btf.types
		local extern_kind = {}
		for _, t in ipairs(btf.types) do
			if t.kind == "DATASEC" then
				if t.size == 0 and #t.vars > 0 then r.datasec_unfixed[#r.datasec_unfixed + 1] = t.name end
				for _, v in ipairs(t.vars) do
					local var = btf.types[v.type]
					if var and var.kind == "VAR" then
						if t.name == ".kconfig" then
							extern_kind[var.name] = "kconfig"
						elseif t.name == ".ksyms" then
							extern_kind[var.name] = "ksym"
						elseif t.name == ".maps" then
							local def = btf_map_def(btf, var) or {}
							r.maps[#r.maps + 1] = { name = var.name, type = def.type,
								type_name = def.type and M.map_type_names[def.type]
									or tostring(def.type),
								max_entries = def.max_entries, key_size = def.key_size,
								value_size = def.value_size, map_flags = def.map_flags,
								pinning = def.pinning, has_key = def.key, has_value = def.value,
								values = def.values }
						end
					end
				end
			elseif t.kind == "FUNC" and t.linkage == 2 then -- BTF_FUNC_EXTERN
				extern_kind[t.name] = extern_kind[t.name] or "kfunc"
			end
		end
		for _, e in ipairs(r.externs) do
			e.kind = extern_kind[e.name]
				or (is_kconfig_name(e.name) and "kconfig")
				or (e.func and "kfunc") or "unknown"
		end
	else
		for _, e in ipairs(r.externs) do
			e.kind = is_kconfig_name(e.name) and "kconfig" or "unknown"
		end
	end
	if byname[".BTF.ext"] then
		r.has_btf_ext = true
		local s = byname[".BTF.ext"]
		local ext = parse_btf_ext(base + s.off, s.size)
		r.core_relo, r.func_info, r.line_info = ext.core_relo, ext.func_info, ext.line_info
		r.btf_ext_hdr_len = ext.hdr_len
	end
	-- What the loader must do for this object beyond the basics.
	r.needs_core = r.core_relo > 0
	r.needs_externs = #r.externs > 0
	r.simple = not r.needs_core and not r.needs_externs
	return r
end

function M.analyse(path)
	local f, err = io.open(path, "rb")
	if not f then return nil, err end
	local data = f:read("*a")
	f:close()
	local ok, r = pcall(M.analyse_bytes, data or "")
	if not ok then return nil, path .. ": " .. tostring(r) end
	r.path, r.bytes = path, #data
	return r
end

---------------------------------------------------------------------------------------
-- Report (when run as a script).

local function keys(t)
	local k = {}
	for n in pairs(t) do k[#k + 1] = n end
	table.sort(k)
	return k
end

function M.report(dir, verbose)
	local objs = M.objects(dir)
	local out = {}
	local function say(...) out[#out + 1] = string.format(...) end
	local all_prefixes, all_sections, all_maptypes, all_kinds, all_externs = {}, {}, {}, {}, {}
	local simple, nprogs, ncore, nextern, nfail = {}, 0, 0, 0, 0
	local unfixed, with_text, with_calls = 0, {}, {}
	say("| object | progs | SEC prefixes | data sections | maps (type) | CO-RE relos | externs |")
	say("| --- | --- | --- | --- | --- | --- | --- |")
	for _, o in ipairs(objs) do
		local a, err = M.analyse(o.path)
		if not a then
			nfail = nfail + 1
			say("| %s | ERROR: %s | | | | | |", o.name, err)
		else
			nprogs = nprogs + #a.programs
			for p in pairs(a.prefixes) do all_prefixes[p] = (all_prefixes[p] or 0) + 1 end
			local ds = {}
			for s in pairs(a.sections) do
				all_sections[s] = (all_sections[s] or 0) + 1
				if s ~= ".BTF" and s ~= ".BTF.ext" and s ~= ".text" then ds[#ds + 1] = s end
			end
			table.sort(ds)
			local mt = {}
			for _, m in ipairs(a.maps) do
				all_maptypes[m.type_name] = (all_maptypes[m.type_name] or 0) + 1
				mt[#mt + 1] = m.name .. "(" .. m.type_name .. ")"
			end
			for k, n in pairs(a.btf_kinds) do all_kinds[k] = (all_kinds[k] or 0) + n end
			local ex = {}
			for _, e in ipairs(a.externs) do
				ex[#ex + 1] = e.name .. ":" .. e.kind .. (e.weak and "(weak)" or "")
				all_externs[e.name .. " (" .. e.kind .. ")"] = (all_externs[e.name .. " (" .. e.kind .. ")"] or 0) + 1
			end
			if a.needs_core then ncore = ncore + 1 end
			if a.needs_externs then nextern = nextern + 1 end
			if a.simple then simple[#simple + 1] = o.name end
			if #a.datasec_unfixed > 0 then unfixed = unfixed + 1 end
			if a.text > 0 then with_text[#with_text + 1] = o.name end
			if a.bpf2bpf_calls > 0 then with_calls[#with_calls + 1] = o.name end
			say("| %s | %d | %s | %s | %s | %d | %s |", o.name, #a.programs,
				table.concat(keys(a.prefixes), " "), table.concat(ds, " "),
				table.concat(mt, " "), a.core_relo, #ex > 0 and table.concat(ex, " ") or "-")
			if verbose then
				for _, p in ipairs(a.programs) do
					say("|   | %s | %s | | | | |", p.section, table.concat(p.funcs, ","))
				end
			end
		end
	end
	say("")
	say("objects: %d (%d unreadable), programs: %d", #objs, nfail, nprogs)
	say("with CO-RE relocations: %d; with extern symbols: %d", ncore, nextern)
	say("neither CO-RE nor externs (%d): %s", #simple, table.concat(simple, " "))
	say("DATASECs left with size 0 by clang (loader must fix up from .symtab): %d objects", unfixed)
	say("non-empty .text (subprograms) (%d): %s", #with_text, table.concat(with_text, " "))
	say("bpf-to-bpf calls (%d): %s", #with_calls, table.concat(with_calls, " "))
	local function counted(t)
		local l = {}
		for _, k in ipairs(keys(t)) do l[#l + 1] = k .. " " .. t[k] end
		return table.concat(l, ", ")
	end
	say("SEC prefixes (objects using each): %s", counted(all_prefixes))
	say("other sections (objects having each): %s", counted(all_sections))
	say("map types (maps): %s", counted(all_maptypes))
	say("BTF kinds (types): %s", counted(all_kinds))
	say("externs (objects): %s", counted(all_externs))
	return table.concat(out, "\n")
end

if arg and arg[0] and arg[0]:match("corpus%.lua$") and not package.loaded["busted"] then
	local dir, verbose = nil, false
	for _, a in ipairs(arg) do
		if a == "--verbose" or a == "-v" then verbose = true else dir = a end
	end
	local d, err = M.ensure(dir)
	if not d then io.stderr:write(err, "\n") os.exit(1) end
	print(M.report(d, verbose))
end

return M
