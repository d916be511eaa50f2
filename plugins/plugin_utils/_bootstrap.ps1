# Private to the remote_desktop.licensing collection; may change without notice.
# The constant command line. It reads one ASCII line from stdin: the agent and the request (JSON), each
# deflated and Ascii85-encoded (without 'z'), one space between. It inflates both and runs the agent as a script block with
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
    $rlText = foreach ($rlPart in (-join @($input)).Trim().Split([char]32)) {
        # Ascii85, which .NET cannot decode: each 5 digits (character - 33, base 85) are 4 bytes, big-endian. The last
        # group is padded with 'u' (84) and the bytes the padding made are left out. Short names: every character here
        # counts about seven times on the command line of ansible-core 2.16-2.18. $rlN: the group's value, $rlI: digits.
        $rlN = $rlI = 0L
        $rlB = [byte[]]$(foreach ($rlC in [byte[]][char[]]($rlPart + 'uuuu')) {
            $rlN = $rlN * 85 + $rlC - 33
            if (++$rlI % 5 -eq 0) {
                foreach ($rlS in 24, 16, 8, 0) { ($rlN -shr $rlS) -band 255 }
                $rlN = 0L
            }
        })
        $rlB = New-Object IO.MemoryStream($rlB, 0, ($rlI - 4 - $rlB.Count / 4))
        (New-Object IO.StreamReader((New-Object IO.Compression.DeflateStream($rlB, [IO.Compression.CompressionMode]::Decompress)))).ReadToEnd()
    }
    & ([ScriptBlock]::Create($rlText[0])) $rlText[1]
}
catch {
    '{"ok":false,"error":{"kind":"internal","message":"the agent stopped with ' + $_.Exception.GetType().FullName + '"}}'
}
