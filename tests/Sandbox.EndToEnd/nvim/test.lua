-- Neovim (0.7+) as a real LSP client of `sandbox lsp --stdio`: run a Python file with an error, check FizzBuzz,
-- and assert streamed output, verdicts and diagnostics. Run headless:
--   SANDBOX_BIN=/path/to/sandbox nvim --headless --clean -c "luafile test.lua"
-- Exits 0 when every step passed, 1 otherwise (the log says which step failed).
local STEP_MS = tonumber(os.getenv('SANDBOX_E2E_STEP_TIMEOUT_MS') or '120000')
local bin = os.getenv('SANDBOX_BIN')

local function log(...)
  io.stderr:write(table.concat(vim.tbl_map(tostring, { ... }), ' ') .. '\n')
end

local function check(condition, message)
  if not condition then
    error(message, 2)
  end
end

local received = { output = {}, tests = {}, diagnostics = {}, messages = {} }

local function scratch(name, lines)
  local dir = vim.fn.tempname()
  vim.fn.mkdir(dir, 'p')
  local path = dir .. '/' .. name
  vim.fn.writefile(lines, path)
  return path
end

local function open(path, client_id)
  vim.cmd('edit ' .. vim.fn.fnameescape(path))
  local bufnr = vim.api.nvim_get_current_buf()
  vim.bo[bufnr].filetype = 'python'
  check(vim.lsp.buf_attach_client(bufnr, client_id), 'attach ' .. path)
  return bufnr
end

local function execute(client, bufnr, command, argument)
  local response, err = client.request_sync('workspace/executeCommand', { command = command, arguments = { argument } }, STEP_MS, bufnr)
  check(response ~= nil, command .. ' got no response: ' .. tostring(err))
  check(response.err == nil, command .. ' failed: ' .. vim.inspect(response.err))
  return response.result
end

local function main()
  check(bin and vim.fn.executable(bin) == 1, 'set SANDBOX_BIN to the built sandbox executable')
  local exit_code
  local client_id = vim.lsp.start_client({
    name = 'sandbox',
    cmd = { bin, 'lsp', '--stdio' },
    root_dir = vim.fn.getcwd(),
    init_options = { trace = 'info' },
    handlers = {
      ['sandbox/output'] = function(_, result) table.insert(received.output, result) end,
      ['sandbox/testResult'] = function(_, result) table.insert(received.tests, result) end,
      ['window/showMessage'] = function(_, result) table.insert(received.messages, result) end,
      ['textDocument/publishDiagnostics'] = function(err, result, ctx, config)
        table.insert(received.diagnostics, result)
        return vim.lsp.diagnostic.on_publish_diagnostics(err, result, ctx, config)
      end,
    },
    on_exit = function(code) exit_code = code end,
  })
  check(client_id ~= nil, 'start_client failed')
  check(vim.wait(STEP_MS, function()
    local c = vim.lsp.get_client_by_id(client_id)
    return c ~= nil and c.initialized
  end, 50), 'initialize')
  local client = vim.lsp.get_client_by_id(client_id)
  check(client.server_capabilities ~= nil or client.resolved_capabilities ~= nil, 'capabilities')
  log('ok initialize')

  -- 1. A Python file with an error on line 3: streamed output, the result, a diagnostic on that line.
  local failing = open(scratch('failing.py', { 'print("hello from neovim")', 'x = 1', 'print(undefined_name)' }), client_id)
  local run = execute(client, failing, 'sandbox.run', { uri = vim.uri_from_bufnr(failing) })
  check(run.verdict == 'runtime-error', 'run verdict: ' .. vim.inspect(run))
  check(run.stdout:find('hello from neovim', 1, true), 'run stdout: ' .. vim.inspect(run))
  local streamed = false
  for _, o in ipairs(received.output) do
    if o.stream == 'stdout' and o.text:find('hello from neovim', 1, true) then streamed = true end
  end
  check(streamed, 'sandbox/output streamed stdout: ' .. vim.inspect(received.output))
  check(vim.wait(STEP_MS, function() return #vim.diagnostic.get(failing) > 0 end, 50), 'diagnostics on the buffer')
  local diagnostic = vim.diagnostic.get(failing)[1]
  check(diagnostic.lnum == 2, 'diagnostic line (0-based) should be 2: ' .. vim.inspect(diagnostic))
  check(diagnostic.severity == vim.diagnostic.severity.ERROR, 'diagnostic severity')
  check(diagnostic.message:find('NameError', 1, true), 'diagnostic message: ' .. diagnostic.message)
  log('ok run: runtime-error, streamed output, diagnostic on line 3:', diagnostic.message)

  -- 2. FizzBuzz declared in the first line: code lens, per-test results, accepted.
  local fizzbuzz = open(scratch('fizzbuzz.py', {
    '# sandbox: problem=fizzbuzz',
    'n = int(input())',
    'for i in range(1, n + 1):',
    '    print("FizzBuzz" if i % 15 == 0 else "Fizz" if i % 3 == 0 else "Buzz" if i % 5 == 0 else i)',
  }), client_id)
  local lenses = client.request_sync('textDocument/codeLens', { textDocument = { uri = vim.uri_from_bufnr(fizzbuzz) } }, STEP_MS, fizzbuzz)
  check(lenses and lenses.result and #lenses.result == 2, 'code lenses: ' .. vim.inspect(lenses))
  check(lenses.result[2].command.title == 'Check against fizzbuzz', 'check lens title')
  local checked = execute(client, fizzbuzz, 'sandbox.check', lenses.result[2].command.arguments[1])
  check(checked.verdict == 'accepted', 'check verdict: ' .. vim.inspect(checked))
  check(checked.passed == checked.total and checked.total >= 2, 'passed/total')
  local uri = vim.uri_from_bufnr(fizzbuzz)
  local per_test = vim.tbl_filter(function(t) return t.uri == uri end, received.tests)
  check(#per_test == checked.total, ('sandbox/testResult count %d vs total %d'):format(#per_test, checked.total))
  for _, t in ipairs(per_test) do
    check(t.verdict == 'accepted', 'test verdict: ' .. vim.inspect(t))
  end
  log(('ok check: accepted, %d sandbox/testResult notifications'):format(#per_test))

  -- 3. Editing the failing file clears its diagnostics.
  vim.api.nvim_buf_set_lines(failing, 2, 3, false, { 'print(x)' })
  check(vim.wait(STEP_MS, function() return #vim.diagnostic.get(failing) == 0 end, 50), 'diagnostics cleared after an edit')
  log('ok diagnostics cleared after an edit')

  -- 4. shutdown + exit: the server ends with code 0.
  client.stop()
  check(vim.wait(STEP_MS, function() return exit_code ~= nil end, 50), 'server exit')
  check(exit_code == 0, 'server exit code ' .. tostring(exit_code))
  log('ok shutdown/exit: code 0')
end

local ok, err = pcall(main)
if ok then
  log('PASS nvim e2e')
  vim.cmd('qall!')
else
  log('FAIL nvim e2e: ' .. tostring(err))
  vim.cmd('cquit 1')
end
