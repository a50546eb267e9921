-- freplace extensions (spec/bpf/freplace.bpf.c): `target` returns what its global
-- function decide() returns (1); the extension replace_decide returns 2 in its place,
-- so test_run of target says exactly whether the extension is attached. This
-- kernel refuses extensions (EPERM): the attach specs are pending here and run in
-- scripts/vmtest's kernels, where a refusal is a failure.
local ayac = require "ayac"
local helpers = require "helpers"
local kernel = require "kernel"

local OBJ = helpers.bpf("freplace")
local PKT = string.rep("\0", 14) .. string.rep("x", 50)

local function run(prog)
	return assert(prog:test_run { data = PKT }).retval
end

describe("freplace", function()
	kernel.it("freplace", "an extension named at load replaces a function of its own object's program", function()
		local obj = assert(ayac.load(OBJ, { extensions = { "replace_decide" } }))
		local target, ext = obj:program("target"), obj:program("replace_decide")
		assert.equal(-1, ext:fd()) -- loaded at attach, against the target given then
		assert.equal(1, run(target))
		local link = assert(ext:attach { target_prog = target, func = "decide" })
		assert.equal("freplace", link.kind)
		assert.equal(2, run(target))
		link:detach()
		assert.equal(1, run(target))
		obj:close()
	end)

	kernel.it("freplace", "set_attach_target before load; attach() then needs no target", function()
		local tobj = assert(ayac.load(OBJ, { autoload = { replace_decide = false } }))
		local target = tobj:program("target")
		local obj = assert(ayac.open(OBJ, { autoload = { target = false } }))
		assert(obj:program("replace_decide"):set_attach_target(target)) -- func from the section
		assert(obj:load())
		local link = assert(obj:program("replace_decide"):attach())
		assert.equal(2, run(target))
		link:detach()
		assert.equal(1, run(target))
		-- by fd, to another instance of the target
		local t2 = assert(ayac.load(OBJ, { autoload = { replace_decide = false } }))
		link = assert(obj:program("replace_decide"):attach {
			target_prog = t2:program("target"):fd(), func = "decide" })
		assert.equal(2, run(t2:program("target")))
		assert.equal(1, run(target))
		link:detach()
		t2:close()
		obj:close()
		tobj:close()
	end)

	it("says what is missing", function()
		-- no target at load
		local obj, err, code = ayac.load(OBJ)
		assert.is_nil(obj)
		assert.equal("EINVAL", code)
		assert.matches("set_attach_target", err, 1, true)
		-- a function the target does not have (its BTF read back from the kernel)
		obj = assert(ayac.load(OBJ, { extensions = { "replace_decide" } }))
		local link
		link, err, code = obj:program("replace_decide"):attach {
			target_prog = obj:program("target"), func = "no_such_func" }
		assert.is_nil(link)
		assert.equal("ENOENT", code)
		assert.matches("no function 'no_such_func'", err, 1, true)
		link, err, code = obj:program("replace_decide"):attach {}
		assert.is_nil(link)
		assert.equal("EINVAL", code)
		assert.matches("needs a target", err, 1, true)
		assert.has_error(function()
			obj:program("replace_decide"):attach { target_prog = "target" }
		end)
		obj:close()
		-- only freplace programs are extensions
		obj, err, code = ayac.open(OBJ, { extensions = { "target" } })
		assert.is_nil(obj)
		assert.equal("EINVAL", code)
		assert.matches("not a freplace program", err, 1, true)
		obj, err, code = ayac.open(OBJ, { extensions = { "nope" } })
		assert.is_nil(obj)
		assert.equal("ENOENT", code)
	end)
end)
