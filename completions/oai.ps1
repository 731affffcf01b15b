# powershell completion for oai, from `oai completion show powershell`; do not edit.
# The candidates come from oai itself on every TAB, so they follow the
# installed version: commands, flags, enum values and profile names.

Register-ArgumentCompleter -Native -CommandName oai -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)
    $line = $commandAst.ToString()
    $upTo = $cursorPosition - $commandAst.Extent.StartOffset
    if ($line.Length -gt $upTo) { $line = $line.Substring(0, $upTo) }
    $line = $line.PadRight($upTo)
    $env:_OAI_COMPLETE = 'complete_powershell'
    $env:_OAI_COMPLETE_LINE = $line
    try {
        $answer = @(& oai 2>$null)
    } finally {
        Remove-Item Env:_OAI_COMPLETE, Env:_OAI_COMPLETE_LINE -ErrorAction SilentlyContinue
    }
    foreach ($entry in $answer) {
        $value, $description = $entry -split "`t", 2
        if (-not $description) { $description = $value }
        $text = $value
        if ($value -match '[\s''"`$;&|(){}]') { $text = "'" + ($value -replace "'", "''") + "'" }
        [System.Management.Automation.CompletionResult]::new(
            $text, $value, 'ParameterValue', $description)
    }
}
