-- Extern symbols against the running kernel: .kconfig values (LINUX_* and CONFIG_*)
-- compared with what this spec computes itself from uname and the kernel's config;
-- typeless __ksym addresses compared with /proc/kallsyms; kfunc calls that load and
-- run; a typed __ksym; weak externs the kernel lacks (0, and a guarded kfunc call that
-- still loads); strong ones it lacks (errors naming them). Programs are SEC("syscall")
-- run with test_run, and write what they saw into .bss.
local ayac = require "ayac"
local ffi = require "ffi"
local h = require "helpers"

local function expect_fail(code, pattern, ...)
  local ok, msg, errcode = ...
  assert.is_nil(ok)
  assert.is_string(msg)
  assert.are.equal(code, errcode, msg)
  if pattern then assert.matches(pattern, msg, 1, true) end
  return msg
end

local function first_line(path)
  local f = io.open(path, "r")
  if not f then return nil end
  local l = f:read("*l")
  f:close()
  return l
end

-- KERNEL_VERSION(a, b, c) the way libbpf computes it for LINUX_KERNEL_VERSION.
local function kernel_version()
  local function kv(a, b, c)
    return tonumber(a) * 65536 + tonumber(b) * 256 + math.min(tonumber(c), 255)
  end
  local sig = first_line("/proc/version_signature") -- Ubuntu: "Ubuntu 5.15.0-91.101-generic 5.15.131"
  local a, b, c = (sig or ""):match("^%S+ %S+ (%d+)%.(%d+)%.(%d+)")
  if a then return kv(a, b, c) end
  a, b, c = (first_line("/proc/sys/kernel/version") or ""):match(" Debian (%d+)%.(%d+)%.(%d+)")
  if a then return kv(a, b, c) end
  a, b, c = first_line("/proc/sys/kernel/osrelease"):match("^(%d+)%.(%d+)%.(%d+)")
  return kv(a, b, c)
end

-- The kernel's config as { CONFIG_X = "value" } (values as written: y, m, 250, "str").
local function kernel_config()
  local release = first_line("/proc/sys/kernel/osrelease")
  local boot = "/boot/config-" .. release
  local text
  if io.open(boot, "r") then
    text = h.read(boot)
  else
    text = h.capture("zcat /proc/config.gz 2>/dev/null")
  end
  local cfg = {}
  for name, value in text:gmatch("(CONFIG_[%w_]+)=([^\n]*)") do cfg[name] = value end
  assert(next(cfg), "no kernel config readable")
  return cfg
end

local function kallsyms(name)
  for line in io.lines("/proc/kallsyms") do
    local addr, sym = line:match("^(%x+) %a (%S+)")
    if sym == name then return addr end
  end
end

local function u64_hex(hex)
  hex = ("0"):rep(16 - #hex) .. hex
  return ffi.cast("uint64_t", tonumber(hex:sub(1, 8), 16)) * 4294967296ULL
    + tonumber(hex:sub(9), 16)
end

local function run(obj, name)
  local r = assert(obj:program(name):test_run {})
  assert.are.equal(0, r.retval)
end

describe("externs", function()
  describe(".kconfig", function()
    local cfg = kernel_config()
    local path = h.bpf("externs_kconfig")

    local function bool(name) return cfg[name] == "y" and 1 or 0 end
    local function tristate(name)
      return ({ y = 1, m = 2 })[cfg[name] or "n"] or 0
    end

    it("reads LINUX_* and CONFIG_* values the kernel has, and 0 for weak ones it lacks", function()
      local obj = assert(ayac.load(path))
      run(obj, "read_kconfig")
      local v = obj:global("values")
      assert.are.equal(kernel_version(), tonumber(v.kernel_version))
      assert.is_true(kernel_version() >= 5 * 65536 + 15 * 256) -- bpf cookies: 5.15
      assert.are.equal(1, tonumber(v.has_bpf_cookie))
      if ffi.arch == "x64" then
        assert.are.equal(kallsyms("__x64_sys_bpf") and 1 or 0, tonumber(v.has_syscall_wrapper))
      end
      assert.are.equal(0, tonumber(v.no_such_value))
      assert.are.equal(1, tonumber(v.bpf_syscall))
      assert.are.equal(bool("CONFIG_BPF_SYSCALL"), tonumber(v.bpf_syscall))
      assert.are.equal(tristate("CONFIG_BPF_JIT"), tonumber(v.bpf_jit))
      assert.are.equal(0, tonumber(v.no_such_option))
      assert.are.equal(bool("CONFIG_KALLSYMS_ALL"), tonumber(v.kallsyms_all))
      assert.are.equal(tonumber(cfg.CONFIG_HZ or "0"), tonumber(v.hz))
      assert.are.equal(tonumber(cfg.CONFIG_HZ or "0"), tonumber(v.hz_from_subprog))
      assert.are.equal(tonumber(cfg.CONFIG_PHYSICAL_START or "0"), tonumber(v.physical_start))
      assert.are.equal(cfg.CONFIG_DEBUG_INFO_BTF and cfg.CONFIG_DEBUG_INFO_BTF:byte() or 0,
        tonumber(v.debug_info_btf))
      local host = (cfg.CONFIG_DEFAULT_HOSTNAME or ""):match('^"(.*)"$') or ""
      assert.are.equal(host:sub(1, 15), v.hostname)
      obj:close()
    end)

    it("keeps them in a frozen, read-only '<obj>.kconfig' map described by BTF", function()
      local obj = assert(ayac.open(path))
      local m = assert(obj:map(".kconfig"))
      assert.are.equal(("externs_kconfig"):sub(1, 7) .. ".kconfig", m.name)
      assert.are.equal(m, obj:map(m.name))
      assert.are.equal("array", m.type)
      assert.are.equal(1, m.max_entries)
      expect_fail("EPERM", nil, obj:set_global("CONFIG_HZ", 1))
      assert(obj:load())
      local info = assert(m:info())
      assert.are_not.equal(0, info.btf_id)            -- the rewritten BTF loaded
      assert.are_not.equal(0, info.btf_value_type_id) -- the .kconfig DATASEC
      assert.are.equal(0x80, bit.band(info.flags, 0x80)) -- BPF_F_RDONLY_PROG
      assert.are.equal(tonumber(cfg.CONFIG_HZ or "0"), obj:global("CONFIG_HZ"))
      assert.are.equal(kernel_version(), obj:global("LINUX_KERNEL_VERSION"))
      assert.is_true(obj:global("CONFIG_BPF_SYSCALL"))
      expect_fail("EPERM", nil, obj:set_global("CONFIG_HZ", 1))
      local key = h.u32le(0)
      local value = assert(m:get(key))
      expect_fail("EPERM", nil, m:set(key, value)) -- frozen
      obj:close()
    end)

    it("loads again after close, with the same values", function()
      for _ = 1, 2 do
        local obj = assert(ayac.load(path))
        run(obj, "read_kconfig")
        assert.are.equal(kernel_version(), tonumber(obj:global("values").kernel_version))
        obj:close()
      end
    end)

    it("refuses a strong CONFIG_ the kernel does not have, naming it", function()
      local obj = assert(ayac.open(h.bpf("externs_bad_config")))
      expect_fail("ENOENT", "CONFIG_AYAC_NO_SUCH_OPTION", obj:load())
      obj:close()
    end)

    it("refuses at open a .kconfig extern of a type libbpf does not support", function()
      expect_fail("EOPNOTSUPP", "CONFIG_AYAC_STRUCT", ayac.open(h.bpf("externs_bad_type")))
    end)
  end)

  describe("__ksym and kfuncs", function()
    -- The kfuncs these programs call came with 6.2: on older kernels the specs that use
    -- them say so instead of failing (a missing kfunc is refused, as checked below).
    local function kfuncs_missing(names)
      local vmlinux = ayac.btf.vmlinux()
      for _, n in ipairs(names) do
        if not vmlinux:find(n, "func") then return n end
      end
    end
    local function with_kfuncs(names, title, fn)
      local missing = kfuncs_missing(names)
      if missing then
        pending(title .. " — needs kfunc " .. missing .. ", which this kernel lacks")
      else
        it(title, fn)
      end
    end

    with_kfuncs({ "bpf_rcu_read_lock", "bpf_rcu_read_unlock", "bpf_task_from_pid",
      "bpf_task_acquire", "bpf_task_release" },
      "resolves typeless ksyms from /proc/kallsyms and calls kfuncs", function()
      local obj = assert(ayac.load(h.bpf("externs_ksyms")))
      assert.are_not.equal(0, obj:program("use_ksyms"):info().btf_id) -- kfunc BTF accepted
      local pid = tonumber(h.read("/proc/self/stat"):match("^(%d+)"))
      obj:set_global("pid", pid)
      run(obj, "use_ksyms")
      local want = assert(kallsyms("_stext"), "_stext not in /proc/kallsyms")
      assert.are.equal(tostring(u64_hex(want)), tostring(ffi.cast("uint64_t", obj:global("stext_addr"))))
      assert.are.equal(0, tonumber(obj:global("missing_addr")))
      assert.are.equal(0, tonumber(obj:global("missing_typed_addr")))
      assert.are.equal(1, tonumber(obj:global("acquired_current")))
      -- bpf_task_from_pid looks in the initial pid namespace
      if h.read("/proc/self/status"):match("NSpid:%s+%d+\n") then
        assert.are.equal(1, tonumber(obj:global("found_pid")))
      end
      assert.are.equal(1, tonumber(obj:global("has_task_acquire")))
      assert.are.equal(0, tonumber(obj:global("has_missing_kfunc")))
      assert.are.equal(0, tonumber(obj:global("missing_kfunc_called")))
      obj:close()
    end)

    it("relocates a typed ksym to its vmlinux BTF id", function()
      local obj = assert(ayac.open(h.bpf("externs_typed")))
      local ok, err, code = obj:load()
      if kallsyms("runqueues") then
        assert(ok, err)
        run(obj, "use_runqueues")
        assert.are.equal(1, tonumber(obj:global("this_cpu_rq")))
        assert.are.equal(1, tonumber(obj:global("cpu0_rq")))
      else
        -- Without CONFIG_KALLSYMS_ALL the verifier accepts the BTF id (a VAR of vmlinux)
        -- and then finds no address for it by name: the relocation itself was right.
        assert.is_nil(ok)
        assert.are.equal("EVERIFIER", code, err)
        assert.matches("failed to find the address for kernel symbol 'runqueues'", err, 1, true)
      end
      obj:close()
    end)

    it("refuses a strong typeless ksym the kernel does not have, naming it", function()
      local obj = assert(ayac.open(h.bpf("externs_bad_ksym")))
      expect_fail("ENOENT", "ayac_no_such_symbol", obj:load())
      obj:close()
    end)

    it("refuses a strong kfunc the kernel does not have, naming it", function()
      local obj = assert(ayac.open(h.bpf("externs_bad_kfunc")))
      expect_fail("ENOENT", "bpf_ayac_no_such_kfunc", obj:load())
      obj:close()
    end)

    with_kfuncs({ "bpf_task_release" },
      "refuses a kfunc whose prototype differs from the kernel's, naming it", function()
      local obj = assert(ayac.open(h.bpf("externs_bad_proto")))
      local msg = expect_fail("EINVAL", "bpf_task_release", obj:load())
      assert.matches("prototype", msg, 1, true)
      obj:close()
    end)
  end)

  describe("in the libbpf-tools corpus", function()
    local corpus = require "corpus"
    local dir = corpus.ensure()
    local want = { biolatency = "LINUX_KERNEL_VERSION", biosnoop = "LINUX_KERNEL_VERSION",
      bitesize = "LINUX_KERNEL_VERSION", capable = "LINUX_KERNEL_VERSION",
      javagc = "LINUX_HAS_BPF_COOKIE" }
    for name, var in pairs(want) do
      local path = dir and (dir .. "/" .. name .. ".bpf.o")
      if path and io.open(path, "rb") then
        it(name .. "'s " .. var .. " reaches its .kconfig map (programs not loaded)", function()
          -- The programs need CO-RE; the maps, the BTF with its extern fix-ups and the
          -- kconfig values do not.
          local obj = assert(ayac.open(path))
          for _, p in obj:programs() do p:set_autoload(false) end
          if name == "capable" then -- sized at run time by the tool, as libbpf-tools do
            obj:map("stackmap"):set_value_size(127 * 8)
            obj:map("stackmap"):set_max_entries(1024)
          end
          assert(obj:load())
          local m = assert(obj:map(".kconfig"))
          assert.are_not.equal(0, m:info().btf_id)
          local expect = var == "LINUX_KERNEL_VERSION" and kernel_version() or 1
          local got = obj:global(var)
          if type(got) == "boolean" then got = got and 1 or 0 end
          assert.are.equal(expect, tonumber(got))
          obj:close()
        end)
      end
    end
  end)
end)
