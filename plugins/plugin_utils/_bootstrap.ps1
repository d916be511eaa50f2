# Private to the remote_desktop.licensing collection; may change without notice.
# The constant command line. It reads one ASCII line from stdin: the agent and the request (JSON), each
# deflated and base64-encoded, one space between. It inflates both and runs the agent as a script block with
# the request text as its only argument; the agent parses the request and prints exactly one JSON document.
# Kept short on purpose: ansible-core 2.16-2.18's winrm plugin encodes this command line once more
# (about 2.7 times longer), and that must still fit cmd.exe's 8,191 characters. Comment lines and
# indentation are stripped before encoding, so keep one statement per line.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
try { [Console]::OutputEncoding = New-Object Text.UTF8Encoding $false } catch { $null = $_ }
$rlMode = [string]$ExecutionContext.SessionState.LanguageMode
if ($rlMode -ne 'FullLanguage') {
    '{"ok":false,"error":{"kind":"unsupported","reason":"language_mode","message":"PowerShell runs in ' + $rlMode + ' mode"}}'
    exit 0
}
try {
    $rlText = foreach ($rlPart in [string]::Join('', @($input)).Trim().Split([char]32)) {
        $rlDeflated = New-Object IO.MemoryStream(, [Convert]::FromBase64String($rlPart))
        (New-Object IO.StreamReader((New-Object IO.Compression.DeflateStream($rlDeflated, [IO.Compression.CompressionMode]::Decompress)))).ReadToEnd()
    }
    & ([ScriptBlock]::Create($rlText[0])) $rlText[1]
}
catch {
    '{"ok":false,"error":{"kind":"internal","message":"the agent stopped with ' + $_.Exception.GetType().FullName + '"}}'
}
