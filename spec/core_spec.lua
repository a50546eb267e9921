-- CO-RE relocations, observed at run time: programs with ___flavor types whose layout
-- differs from the target's write the relocated values (offsets, sizes, existence,
-- signedness, shifts, type ids and sizes, enum values) and what they read through a
-- buffer into a global; the expectations come from the target BTF itself.
--
--   core_vmlinux.bpf.c    against this kernel's vmlinux BTF
--   core_fixture.bpf.c    against made-up "kernels" (core_target_a/b.bpf.c, btf = path)
--   core_matches.bpf.c    TYPE_MATCHES (its TYPE_EXISTS records rewritten: clang 14
--                         cannot emit TYPE_MATCHES)
local ffi = require "ffi"
local ayac = require "ayac"
local h = require "helpers"

-- 256 bytes, none zero, each different from its neighbours.
local PATTERN = (function()
  local t = {}
  for i = 0, 255 do t[#t + 1] = string.char((i * 37 + 11) % 251 + 1) end
  return table.concat(t)
end)()

local function u(s, off, n) -- little-endian unsigned of n <= 6 bytes at 0-based off
  local v = 0
  for i = n, 1, -1 do v = v * 256 + s:byte(off + i) end
  return v
end

local function s32(s, off)
  local v = u(s, off, 4)
  return v >= 2 ^ 31 and v - 2 ^ 32 or v
end

local function u64(s, off) -- as a uint64_t cdata
  return ffi.cast("const uint64_t *", ffi.cast("const uint8_t *", s) + off)[0]
end

-- A bitfield of nbits at absolute bit offset bit_off (little-endian), sign-extended.
local function bits(s, bit_off, nbits, signed)
  local v = 0
  for k = nbits - 1, 0, -1 do
    local b = bit_off + k
    v = v * 2 + math.floor(s:byte(math.floor(b / 8) + 1) / 2 ^ (b % 8)) % 2
  end
  if signed and v >= 2 ^ (nbits - 1) then v = v - 2 ^ nbits end
  return v
end

-- A u64 global field (number or 64-bit cdata) as a signed Lua number.
local function signed(x)
  return tonumber(ffi.cast("int64_t", x))
end

-- The member called name of struct/union id, looked for through anonymous members as
-- CO-RE does: its absolute bit offset and its member table.
local function member(btf, id, name, base)
  local t = btf:resolved(id)
  base = base or 0
  for _, m in ipairs(t.members or {}) do
    if m.name == name then return base + m.bit_offset, m end
    if m.name == "" then
      local off, mm = member(btf, m.type, name, base + m.bit_offset)
      if off then return off, mm end
    end
  end
end

local function struct_id(btf, name)
  return assert(btf:find("struct " .. name))
end

local function enum_value(btf, enum, name)
  for _, v in ipairs(btf:type(assert(btf:find("enum " .. enum))).values) do
    if v.name == name then return v.value end
  end
end

local function has_field(btf, struct, field)
  return member(btf, struct_id(btf, struct), field) and 1 or 0
end

-- Open obj with opts, autoload only the programs named in `load`, fill a buffer
-- global; returns the object and obj:load()'s results.
local function load(name, opts, progs, buffer)
  local obj = assert(ayac.open(h.bpf(name), opts))
  local want = {}
  for _, p in ipairs(progs) do want[p] = true end
  for pname, prog in obj:programs() do prog:set_autoload(want[pname] == true) end
  if buffer then obj:set_global(buffer, PATTERN) end
  return obj, obj:load()
end

local function run(obj, prog)
  assert(obj:program(prog):test_run({ data = h.packet }))
end

describe("CO-RE against vmlinux", function()
  local vm = assert(ayac.btf.vmlinux())
  local task = struct_id(vm, "task_struct")
  local skb = struct_id(vm, "sk_buff")

  it("relocates offsets, sizes, existence, signedness, types and enum values", function()
    local obj, ok, err = load("core_vmlinux", nil, { "vmlinux_values" })
    assert(ok, err)
    run(obj, "vmlinux_values")
    local r = obj:global("res")
    local pid_off = member(vm, task, "pid")
    assert.are.equal(pid_off / 8, r.off_pid)
    assert.are.equal(member(vm, task, "tgid") / 8, r.off_tgid)
    assert.are.equal(member(vm, task, "flags") / 8, r.off_flags)
    assert.are.equal(member(vm, task, "comm") / 8 + 3, r.off_comm3)
    -- mark sits in an anonymous union of the kernel's sk_buff
    assert.are.equal(member(vm, skb, "mark") / 8, r.off_mark)
    assert.are.equal(member(vm, skb, "len") / 8, r.off_len)
    assert.are.equal(4, r.size_pid)
    assert.are.equal(16, r.size_comm)
    assert.are.equal(4, r.size_len)
    assert.are.equal(1, r.has_pid)
    assert.are.equal(0, r.has_missing)
    assert.are.equal(has_field(vm, "task_struct", "state"), r.has_old_state)
    assert.are.equal(has_field(vm, "task_struct", "__state"), r.has_new_state)
    assert.are.equal(1, r.signed_pid)
    assert.are.equal(0, r.signed_flags)
    assert.are.equal(vm:type(task).size, r.task_size)
    assert.are.equal(1, r.task_exists)
    assert.are.equal(0, r.nope_exists)
    assert.are.equal(task, r.task_id)
    assert.are.equal(obj:btf():find("struct task_struct___mine"), r.task_local_id)
    assert.are.equal(0, r.nope_id)
    assert.are.equal(enum_value(vm, "bpf_map_type", "BPF_MAP_TYPE_RINGBUF"), r.ringbuf)
    assert.are.equal(enum_value(vm, "bpf_map_type", "BPF_MAP_TYPE_HASH"), r.hash)
    assert.are.equal(1, r.ringbuf_exists)
    assert.are.equal(0, r.none_exists)
    obj:close()
  end)

  it("reads fields and bitfields through the kernel's layout", function()
    local obj, ok, err = load("core_vmlinux", nil, { "vmlinux_reads" }, "skb")
    assert(ok, err)
    run(obj, "vmlinux_reads")
    local r = obj:global("res")
    assert.are.equal(u(PATTERN, member(vm, skb, "len") / 8, 4), r.len)
    assert.are.equal(u(PATTERN, member(vm, skb, "mark") / 8, 4), r.mark)
    for _, f in ipairs({ "fclone", "cloned", "pp_recycle" }) do
      local off, m = member(vm, skb, f)
      assert.is_true(m.bitfield_size > 0, f .. " is a bitfield in this kernel")
      assert.are.equal(bits(PATTERN, off, m.bitfield_size, false), r[f], f)
    end
    obj:close()
  end)

  it("loads a program whose unsatisfiable relocation is dead code", function()
    local obj, ok, err = load("core_vmlinux", nil, { "vmlinux_guarded" })
    assert(ok, err)
    run(obj, "vmlinux_guarded")
    if has_field(vm, "task_struct", "state") == 0 then
      assert.are.equal(7, obj:global("res").state)
    end
    obj:close()
  end)

  it("names the relocation when the verifier reaches a poisoned field access", function()
    if has_field(vm, "task_struct", "state") == 1 then return end -- an old kernel has it
    local obj, ok, err, code = load("core_vmlinux", nil, { "vmlinux_unguarded" })
    obj:close()
    assert.is_nil(ok)
    assert.are.equal("ECORE", code)
    assert.matches("program 'vmlinux_unguarded'", err, 1, true)
    assert.matches("CO%-RE relocation #%d+ %(field_byte_offset of struct task_struct___old%.state%)", err)
    assert.matches("no compatible field 'state'", err, 1, true)
    assert.matches("vmlinux", err, 1, true)
    assert.matches("invalid func unknown#195896080", err, 1, true) -- the verifier log follows
  end)

  it("names the relocation when the verifier reaches a poisoned enum value (ld_imm64)", function()
    local obj, ok, err, code = load("core_vmlinux", nil, { "vmlinux_enum_unguarded" })
    obj:close()
    assert.is_nil(ok)
    assert.are.equal("ECORE", code)
    assert.matches("enumval_value of enum bpf_map_type___mine::AYAC_MAP_TYPE_NONE___mine", err, 1, true)
    assert.matches("has no value 'AYAC_MAP_TYPE_NONE'", err, 1, true)
  end)
end)

describe("CO-RE against kernel module BTF", function()
  local vm = assert(ayac.btf.vmlinux())

  -- A stand-in module: split BTF over vmlinux with struct ayac_modtype { int pad; int val; }.
  local function fake_module()
    local f = assert(io.open("/sys/kernel/btf/vmlinux", "rb"))
    local hdr = f:read(24)
    f:close()
    local base_strs = u(hdr, 20, 4)
    local int = assert(vm:find("int"))
    local strs = "ayac_modtype\0pad\0val\0"
    local function off(name) return base_strs + (strs:find(name .. "\0", 1, true) - 1) end
    local types = h.u32le(off("ayac_modtype")) .. h.u32le(4 * 2 ^ 24 + 2) .. h.u32le(8) ..
      h.u32le(off("pad")) .. h.u32le(int) .. h.u32le(0) ..
      h.u32le(off("val")) .. h.u32le(int) .. h.u32le(32)
    local blob = string.char(0x9f, 0xeb, 1, 0) .. h.u32le(24) .. h.u32le(0) .. h.u32le(#types) ..
      h.u32le(#types) .. h.u32le(#strs) .. types .. strs
    local dir = h.tmpname("-btf")
    assert(os.execute("mkdir " .. dir) == 0)
    h.write(dir .. "/ayac_fake_mod", blob)
    return dir, vm:count() + 1
  end

  it("has no candidates there on a kernel without such a module", function()
    local obj, ok, err = load("core_vmlinux", nil, { "vmlinux_module" })
    assert(ok, err)
    run(obj, "vmlinux_module")
    local r = obj:global("res")
    assert.are.same({ 0, 0, 0 }, { r.mod_exists, r.mod_id, r.mod_off })
    obj:close()
  end)

  it("finds candidates in module BTF when vmlinux has none", function()
    local dir, id = fake_module()
    local script = dir .. "/run.lua"
    h.write(script, string.format([[
      local ayac = require "ayac"
      local obj = assert(ayac.open(%q))
      for name, p in obj:programs() do p:set_autoload(name == "vmlinux_module") end
      assert(obj:load())
      assert(obj:program("vmlinux_module"):test_run({ data = string.rep("\0", 64) }))
      local r = obj:global("res")
      print(r.mod_exists, r.mod_id, r.mod_off)
    ]], h.bpf("core_vmlinux")))
    local out, ok = h.capture("AYAC_MODULE_BTF_DIR='" .. dir .. "' '" .. h.bin .. "' '" .. script .. "' 2>&1")
    os.execute("rm -rf '" .. dir .. "'")
    assert(ok, out)
    assert.are.equal(string.format("1\t%d\t4", id), out:match("^[^\n]*"))
  end)
end)

describe("CO-RE against a target BTF given with btf = path", function()
  local targets = {
    a = assert(ayac.btf.load(h.bpf("core_target_a"))),
    b = assert(ayac.btf.load(h.bpf("core_target_b"))),
  }

  for _, which in ipairs({ "a", "b" }) do
    local tb = targets[which]
    local path = h.bpf("core_target_" .. which)
    local obj_id = struct_id(tb, "core_obj")
    local function off(name) return member(tb, obj_id, name) end

    describe("target " .. which, function()
      it("relocates every field, type and enum value kind", function()
        local obj, ok, err = load("core_fixture", { btf = path }, { "fixture_values" })
        assert(ok, err)
        run(obj, "fixture_values")
        local r = obj:global("res")
        assert.are.equal(off("count") / 8, r.off_count)
        assert.are.equal(off("u_int") / 8, r.off_u_int)
        local child_off, child = member(tb, obj_id, "child")
        assert.are.equal((child_off + member(tb, child.type, "b")) / 8, r.off_child_b)
        assert.are.equal(off("arr") / 8 + 2 * 4, r.off_arr2)
        assert.are.equal(off("state") / 8, r.off_state)
        local _, count = member(tb, obj_id, "count")
        assert.are.equal(tb:resolve_size(count.type), r.size_count)
        local _, arr = member(tb, obj_id, "arr")
        assert.are.equal(tb:resolve_size(arr.type), r.size_arr)
        assert.are.equal(tb:resolve_size(child.type), r.size_child)
        -- flag_b: the smallest aligned load holding it, and the shifts that extract it
        local fb, flag_b = member(tb, obj_id, "flag_b")
        local byte_sz = tb:resolve_size(flag_b.type)
        local byte_off = math.floor(fb / 8 / byte_sz) * byte_sz
        assert.are.equal(byte_off, r.off_flag_b)
        assert.are.equal(byte_sz, r.size_flag_b)
        assert.are.equal(64 - (fb + flag_b.bitfield_size - byte_off * 8), r.lshift_flag_b)
        assert.are.equal(64 - flag_b.bitfield_size, r.rshift_flag_b)
        assert.are.equal(which == "a" and 1 or 0, r.has_gone)
        assert.are.equal(which == "b" and 1 or 0, r.has_new_name)
        assert.are.equal(which == "a" and 1 or 0, r.has_old_name)
        assert.are.equal(1, r.signed_sval)
        assert.are.equal(0, r.signed_count)
        assert.are.equal(1, r.signed_sbits)
        assert.are.equal(0, r.signed_state)
        assert.are.equal(tb:type(obj_id).size, r.obj_size)
        assert.are.equal(struct_id(tb, "core_child"), r.child_id)
        assert.are.equal(1, r.obj_exists)
        assert.are.equal(enum_value(tb, "core_state", "CORE_IDLE"), r.idle)
        assert.are.equal(enum_value(tb, "core_state", "CORE_RUNNING"), r.running)
        assert.are.equal(which == "a" and 1 or 0, r.done_exists)
        assert.are.equal(1, r.running_exists)
        obj:close()
      end)

      it("reads moved, widened, nested, renamed and bit fields where the target has them", function()
        local obj, ok, err = load("core_fixture", { btf = path }, { "fixture_reads" }, "buf")
        assert(ok, err)
        run(obj, "fixture_reads")
        local r = obj:global("res")
        local _, count = member(tb, obj_id, "count")
        if tb:resolve_size(count.type) == 8 then -- the 4-byte load became an 8-byte one
          assert.are.equal(u64(PATTERN, off("count") / 8), ffi.cast("uint64_t", r.count))
        else
          assert.are.equal(u(PATTERN, off("count") / 8, 4), r.count)
        end
        assert.are.equal(s32(PATTERN, off("u_int") / 8), signed(r.u_int))
        local child_off, child = member(tb, obj_id, "child")
        assert.are.equal(s32(PATTERN, (child_off + member(tb, child.type, "b")) / 8), signed(r.child_b))
        assert.are.equal(s32(PATTERN, off("arr") / 8 + 8), signed(r.arr2))
        for _, f in ipairs({ "flag_a", "flag_b", "flag_c", "sbits" }) do
          local bo, m = member(tb, obj_id, f)
          assert.are.equal(bits(PATTERN, bo, m.bitfield_size, f == "sbits"), signed(r[f]), f)
        end
        local renamed = which == "a" and "old_name" or "new_name"
        assert.are.equal(s32(PATTERN, off(renamed) / 8), signed(r.renamed))
        assert.are.equal(which == "a" and s32(PATTERN, off("gone") / 8) or 12345, signed(r.gone))
        obj:close()
      end)
    end)
  end

  it("loads an access to a field the target lacks when the target has it (A), names it when not (B)", function()
    local obj, ok, err = load("core_fixture", { btf = h.bpf("core_target_a") }, { "fixture_unguarded" }, "buf")
    assert(ok, err)
    run(obj, "fixture_unguarded")
    assert.are.equal(s32(PATTERN, member(targets.a, struct_id(targets.a, "core_obj"), "gone") / 8),
      signed(obj:global("res").gone))
    obj:close()
    local code
    obj, ok, err, code = load("core_fixture", { btf = h.bpf("core_target_b") }, { "fixture_unguarded" })
    obj:close()
    assert.is_nil(ok)
    assert.are.equal("ECORE", code)
    assert.matches("load program 'fixture_unguarded' (xdp): CO-RE relocation #", err, 1, true)
    assert.matches("(field_byte_offset of struct core_obj___local.gone) cannot be satisfied", err, 1, true)
    assert.matches("no compatible field 'gone' in 'core_obj___local'", err, 1, true)
    assert.matches(h.bpf("core_target_b"), err, 1, true)
  end)

  it("poisons a load that cannot be resized to a wider signed field, and names it", function()
    local obj, ok, err = load("core_fixture", { btf = h.bpf("core_target_a") }, { "fixture_signed_wide" }, "buf")
    assert(ok, err)
    run(obj, "fixture_signed_wide")
    assert.are.equal(s32(PATTERN, member(targets.a, struct_id(targets.a, "core_obj"), "sval") / 8),
      signed(obj:global("res").sval))
    obj:close()
    local code
    obj, ok, err, code = load("core_fixture", { btf = h.bpf("core_target_b") }, { "fixture_signed_wide" })
    obj:close()
    assert.is_nil(ok)
    assert.are.equal("ECORE", code)
    assert.matches("(field_byte_offset of struct core_obj___local.sval)", err, 1, true)
    assert.matches("8 bytes in the target BTF, 4 in the object's", err, 1, true)
  end)

  it("refuses candidates that disagree, naming the type and both candidates", function()
    local obj, ok, err = load("core_fixture", { btf = h.bpf("core_target_a") }, { "fixture_ambiguous" })
    assert(ok, err)
    run(obj, "fixture_ambiguous")
    assert.are.equal(4, obj:global("res").amb_y)
    obj:close()
    local code
    obj, ok, err, code = load("core_fixture", { btf = h.bpf("core_target_b") }, { "fixture_ambiguous" })
    obj:close()
    assert.is_nil(ok)
    assert.are.equal("ECORE", code)
    assert.matches("program 'fixture_ambiguous': CO%-RE relocation #%d+ %(field_byte_offset of " ..
      "struct core_amb___local%.y%): struct core_amb___local: candidates %[%d+%] core_amb and " ..
      "%[%d+%] core_amb___dup in the target BTF", err)
    assert.matches("give different answers (4, 0)", err, 1, true)
  end)

  it("refuses CO-RE relocations without a target BTF (btf = false)", function()
    local obj, ok, err, code = load("core_fixture", { btf = false }, { "fixture_values" })
    obj:close()
    assert.is_nil(ok)
    assert.are.equal("ECORE", code)
    assert.matches("program 'fixture_values': CO-RE relocation #0 (", err, 1, true)
    assert.matches("no target BTF", err, 1, true)
  end)

  it("reports a target BTF path that cannot be read", function()
    local missing = h.tmpname(".btf")
    local obj, ok, err, code = load("core_fixture", { btf = missing }, { "fixture_values" })
    obj:close()
    assert.is_nil(ok)
    assert.are.equal("ENOENT", code)
    assert.matches(missing, err, 1, true)
  end)

  it("leaves programs without CO-RE relocations alone under btf = false", function()
    local obj = assert(ayac.open(h.bpf("globals"), { btf = false }))
    assert(obj:load())
    obj:close()
  end)
end)

describe("CO-RE type matches", function()
  -- The object's bytes with every TYPE_EXISTS (8) record of .BTF.ext made TYPE_MATCHES (12).
  local function exists_to_matches(bytes)
    local shoff = u(bytes, 0x28, 6)
    local shentsize, shnum, shstrndx = u(bytes, 0x3a, 2), u(bytes, 0x3c, 2), u(bytes, 0x3e, 2)
    local function shdr(i) local b = shoff + i * shentsize
      return { name = u(bytes, b, 4), off = u(bytes, b + 0x18, 6), size = u(bytes, b + 0x20, 6) } end
    local strs = shdr(shstrndx)
    local ext
    for i = 1, shnum - 1 do
      local s = shdr(i)
      if bytes:match("^%.BTF%.ext%z", strs.off + s.name + 1) then ext = s end
    end
    assert(ext, "no .BTF.ext")
    local hdr_len = u(bytes, ext.off + 4, 4)
    local start = ext.off + hdr_len + u(bytes, ext.off + 24, 4)
    local stop = start + u(bytes, ext.off + 28, 4)
    local rec_size, p, n = u(bytes, start, 4), start + 4, 0
    while p < stop do
      local num = u(bytes, p + 4, 4)
      for k = 0, num - 1 do
        local kind_at = p + 8 + k * rec_size + 12
        if u(bytes, kind_at, 4) == 8 then
          bytes = h.splice(bytes, kind_at, h.u32le(12))
          n = n + 1
        end
      end
      p = p + 8 + num * rec_size
    end
    assert.are.equal(4, n)
    return bytes
  end

  local function run_matches(bytes, target)
    local obj = assert(ayac.open(bytes, { btf = h.bpf("core_target_" .. target) }))
    assert(obj:load())
    run(obj, "matches")
    local r = { obj:global("m_same"), obj:global("m_subset"), obj:global("m_signs"),
      obj:global("m_missing") }
    obj:close()
    return r
  end

  it("compares layouts member by member (TYPE_MATCHES)", function()
    local bytes = exists_to_matches(h.read(h.bpf("core_matches")))
    assert.are.same({ 1, 1, 0, 0 }, run_matches(bytes, "a"))
    assert.are.same({ 0, 1, 0, 0 }, run_matches(bytes, "b"))
  end)

  it("only asks for the name and kind as TYPE_EXISTS", function()
    local bytes = h.read(h.bpf("core_matches"))
    assert.are.same({ 1, 1, 1, 0 }, run_matches(bytes, "a"))
    assert.are.same({ 1, 1, 1, 0 }, run_matches(bytes, "b"))
  end)
end)
