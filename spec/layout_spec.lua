-- The core's package rule (docs/architecture.md): a file includes from its own folder,
-- from folders below it and from the shared headers, never from a folder above.
local root = os.getenv("AYAC_ROOT") or "."

-- Lower numbers are lower in the graph; equal numbers are siblings that must not
-- include each other.
local level = { sys = 0, btf = 1, features = 1, elf = 2, syms = 2, relo = 3, top = 4, attach = 5,
	events = 5 }
local shared = { ["ayac.h"] = true, ["internal.h"] = true }

local function package_of(path)
	local pkg = path:match("^src/core/([%w_]+)/[^/]+$")
	return pkg or "top"
end

local function included_package(inc, from_pkg)
	local pkg = inc:match("^([%w_]+)/[^/]+$")
	if pkg then return pkg end
	if shared[inc] then return nil end
	if inc == "model.h" then return "top" end
	return from_pkg -- a plain name is a header of the including file's own folder
end

describe("src/core packages", function()
	it("include only from their own folder, folders below, and the shared headers", function()
		local p = assert(io.popen("cd " .. root .. " && find src/core -name '*.[ch]' | sort"))
		local files, bad = 0, {}
		for path in p:lines() do
			files = files + 1
			local pkg = package_of(path)
			assert.is_not_nil(level[pkg], "unknown package folder for " .. path)
			for inc in io.lines(root .. "/" .. path) do
				local name = inc:match('^#include "([^"]+)"')
				if name then
					local to = included_package(name, pkg)
					if to and to ~= pkg and not (level[to] and level[to] < level[pkg]) then
						bad[#bad + 1] = path .. " includes " .. name
					end
				end
			end
		end
		p:close()
		assert.is_true(files > 50)
		assert.are.same({}, bad)
	end)

	it("has no file left at the top that belongs to a package", function()
		local p = assert(io.popen("cd " .. root .. " && ls src/core/*.c"))
		local top = {}
		for path in p:lines() do top[#top + 1] = path:match("[^/]+$") end
		p:close()
		for _, f in ipairs(top) do
			assert.is_nil(f:match("^attach_") or f:match("^btf") or f:match("^elf_") or
				f:match("^probe_") or f:match("^sys_") or f:match("^core_"), f)
		end
	end)
end)
