# Private to the remote_desktop.licensing collection; may change without notice.
# The constant command line: read one JSON line from stdin ({"agent": <script text>, "request": {...}}),
# run the agent text as a script block with the request as data, print exactly one JSON document.
# Comment lines and indentation are stripped before it is encoded, so keep one statement per line.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
try { [Console]::OutputEncoding = New-Object -TypeName System.Text.UTF8Encoding -ArgumentList $false } catch { $null = $_ }
if ($ExecutionContext.SessionState.LanguageMode -ne 'FullLanguage') {
    '{"ok":false,"error":{"kind":"unsupported","reason":"language_mode","message":"PowerShell runs in ' + [string]$ExecutionContext.SessionState.LanguageMode + ' mode"}}'
    exit 0
}
$rlSerializer = $null
try {
    Add-Type -AssemblyName System.Web.Extensions
    $rlSerializer = New-Object -TypeName System.Web.Script.Serialization.JavaScriptSerializer
    $rlSerializer.MaxJsonLength = [int]::MaxValue
    $rlLine = [string]::Join("`n", @(foreach ($rlIn in $input) { [string]$rlIn }))
    $rlEnvelope = $rlSerializer.DeserializeObject($rlLine)
    $rlAgent = [ScriptBlock]::Create([string]$rlEnvelope['agent'])
    & $rlAgent $rlEnvelope['request'] $rlSerializer
}
catch {
    $rlError = [ordered]@{ ok = $false; error = [ordered]@{ kind = 'internal'; message = [string]$_.Exception.Message; path = $null } }
    if ($null -ne $rlSerializer) { $rlSerializer.Serialize($rlError) }
    else { '{"ok":false,"error":{"kind":"internal","message":"the agent bootstrap could not load System.Web.Extensions"}}' }
}
