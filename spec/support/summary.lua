-- busted output handler: busted's plain terminal output, then the one closing line
-- CI reads: "N passed, N failed" (", N skipped" for pending specs). Errors count as
-- failures.
return function(options)
  local busted = require 'busted'
  local handler = require 'busted.outputHandlers.plainTerminal'(options)

  busted.subscribe({ 'suite', 'end' }, function()
    io.write(string.format('\n%d passed, %d failed, %d skipped\n',
      handler.successesCount, handler.failuresCount + handler.errorsCount,
      handler.pendingsCount))
    io.flush()
    return nil, true
  end)
  return handler
end
