# Private to the remote_desktop.licensing collection; may change without notice.
#
# The one script the collection runs on a Windows host. It is a fixed interpreter of typed
# operations: every value, path and name arrives as data in $Request and is never turned into
# code. Target runtime: Windows PowerShell 5.1 on .NET Framework 4.x (no PowerShell 7 syntax).
# It prints exactly one JSON document: {"ok": true, "version": N, "host": {...}, "results": [...]}.
param($Request, $Serializer)

$ErrorActionPreference = 'Stop'
$AgentProtocolVersion = 1

function Get-Field {
    param($Map, [string]$Name, $Default = $null)
    if ($null -ne $Map -and $Map -is [System.Collections.IDictionary] -and $Map.Contains($Name)) { return $Map[$Name] }
    return $Default
}

function New-OpError {
    param([string]$Kind, [string]$Message, $Path = $null)
    return [ordered]@{ ok = $false; error = [ordered]@{ kind = $Kind; message = $Message; path = $Path } }
}

# Maps an exception (and its inner exceptions) onto the protocol's closed set of error kinds.
function Get-ErrorKind {
    param($Exception)
    $current = $Exception
    while ($null -ne $current) {
        if ($current -is [System.Security.SecurityException] -or $current -is [System.UnauthorizedAccessException]) { return 'access_denied' }
        if ($current.GetType().FullName -eq 'Microsoft.Management.Infrastructure.CimException') { return 'wmi_error' }
        if ($current -is [System.ArgumentException]) { return 'invalid_argument' }
        $current = $current.InnerException
    }
    return 'internal'
}

function Get-RegistryView {
    param($View)
    if ([int]$View -eq 32) { return [Microsoft.Win32.RegistryView]::Registry32 }
    return [Microsoft.Win32.RegistryView]::Registry64
}

function Open-LocalMachine {
    param($View)
    return [Microsoft.Win32.RegistryKey]::OpenBaseKey([Microsoft.Win32.RegistryHive]::LocalMachine, (Get-RegistryView $View))
}

# One registry value as the wire carries it: DWORD/QWORD unsigned, strings unexpanded,
# MULTI_SZ as a list, BINARY/NONE as base64.
function ConvertTo-WireValue {
    param($Key, [string]$Name)
    $kind = $Key.GetValueKind($Name)
    $raw = $Key.GetValue($Name, $null, [Microsoft.Win32.RegistryValueOptions]::DoNotExpandEnvironmentNames)
    $entry = [ordered]@{ name = $Name; type = 'none'; data = $null }
    if ($kind -eq [Microsoft.Win32.RegistryValueKind]::DWord) {
        $entry.type = 'dword'
        $entry.data = [BitConverter]::ToUInt32([BitConverter]::GetBytes([int]$raw), 0)
    }
    elseif ($kind -eq [Microsoft.Win32.RegistryValueKind]::QWord) {
        $entry.type = 'qword'
        $entry.data = [BitConverter]::ToUInt64([BitConverter]::GetBytes([long]$raw), 0)
    }
    elseif ($kind -eq [Microsoft.Win32.RegistryValueKind]::String) {
        $entry.type = 'string'
        $entry.data = [string]$raw
    }
    elseif ($kind -eq [Microsoft.Win32.RegistryValueKind]::ExpandString) {
        $entry.type = 'expandstring'
        $entry.data = [string]$raw
    }
    elseif ($kind -eq [Microsoft.Win32.RegistryValueKind]::MultiString) {
        $entry.type = 'multistring'
        $entry.data = [string[]]@($raw)
    }
    else {
        if ($kind -eq [Microsoft.Win32.RegistryValueKind]::Binary) { $entry.type = 'binary' }
        $bytes = [byte[]]@()
        if ($null -ne $raw) { $bytes = [byte[]]$raw }
        $entry.data = [Convert]::ToBase64String($bytes)
    }
    return $entry
}

function Invoke-ReadKey {
    param($Op)
    $path = [string](Get-Field $Op 'path' '')
    $base = Open-LocalMachine (Get-Field $Op 'view' 64)
    try {
        $key = $base.OpenSubKey($path, $false)
        if ($null -eq $key) { return [ordered]@{ ok = $true; exists = $false } }
        try {
            $values = New-Object -TypeName System.Collections.ArrayList
            foreach ($name in $key.GetValueNames()) { $null = $values.Add((ConvertTo-WireValue $key $name)) }
            $subkeys = [string[]]@($key.GetSubKeyNames())
            return [ordered]@{ ok = $true; exists = $true; values = $values.ToArray(); subkeys = $subkeys }
        }
        finally { $key.Dispose() }
    }
    finally { $base.Dispose() }
}

function Invoke-WmiTerminalService {
    param($Op)
    try {
        $setting = Get-CimInstance -Namespace 'root/cimv2/TerminalServices' -ClassName 'Win32_TerminalServiceSetting'
    }
    catch {
        # Namespace or class missing: the RD Session Host pieces are not installed. An answer, not an error.
        return [ordered]@{ ok = $true; exists = $false; reason = [string]$_.Exception.Message }
    }
    $result = [ordered]@{
        ok = $true
        exists = $true
        licensing_type = [int]$setting.LicensingType
        licensing_name = [string]$setting.LicensingName
        policy_source_licensing_type = [int]$setting.PolicySourceLicensingType
        policy_source_configured_license_servers = [int]$setting.PolicySourceConfiguredLicenseServers
        terminal_server_mode = [int]$setting.TerminalServerMode
        grace_days_left = $null
        grace_error = $null
        specified_license_servers = $null
        license_servers_error = $null
    }
    try {
        $grace = Invoke-CimMethod -InputObject $setting -MethodName 'GetGracePeriodDays'
        $result.grace_days_left = [int]$grace.DaysLeft
    }
    catch {
        $result.grace_error = [ordered]@{ message = [string]$_.Exception.Message; hresult = ('0x{0:X8}' -f $_.Exception.HResult) }
    }
    try {
        $list = Invoke-CimMethod -InputObject $setting -MethodName 'GetSpecifiedLicenseServerList'
        $result.specified_license_servers = [string[]]@($list.SpecifiedLSList | Where-Object { $null -ne $_ })
    }
    catch {
        $result.license_servers_error = [string]$_.Exception.Message
    }
    return $result
}

function Invoke-ComputerSystem {
    param($Op)
    $system = Get-CimInstance -ClassName 'Win32_ComputerSystem'
    return [ordered]@{
        ok = $true
        name = [string]$system.Name
        part_of_domain = [bool]$system.PartOfDomain
        domain = [string]$system.Domain
        domain_role = [int]$system.DomainRole
    }
}

function Invoke-ServiceStatus {
    param($Op)
    $services = [ordered]@{}
    foreach ($name in @(Get-Field $Op 'names' @())) {
        $controller = New-Object -TypeName System.ServiceProcess.ServiceController -ArgumentList ([string]$name)
        try { $services[[string]$name] = [ordered]@{ exists = $true; status = [string]$controller.Status } }
        catch [System.InvalidOperationException] { $services[[string]$name] = [ordered]@{ exists = $false; status = $null } }
        finally { $controller.Dispose() }
    }
    return [ordered]@{ ok = $true; services = $services }
}

function Invoke-Operation {
    param($Op)
    $name = [string](Get-Field $Op 'op' '')
    if ($name -eq 'read_key') { return Invoke-ReadKey $Op }
    if ($name -eq 'wmi_terminal_service') { return Invoke-WmiTerminalService $Op }
    if ($name -eq 'computer_system') { return Invoke-ComputerSystem $Op }
    if ($name -eq 'service_status') { return Invoke-ServiceStatus $Op }
    return New-OpError 'invalid_argument' ('unknown operation: ' + $name)
}

function Get-HostFacts {
    $identity = [Security.Principal.WindowsIdentity]::GetCurrent()
    $principal = New-Object -TypeName Security.Principal.WindowsPrincipal -ArgumentList $identity
    return [ordered]@{
        ps_version = [string]$PSVersionTable.PSVersion
        user = [string]$identity.Name
        elevated = [bool]$principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)
    }
}

$requested = [int](Get-Field $Request 'version' 0)
if ($requested -ne $AgentProtocolVersion) {
    $mismatch = New-OpError 'unsupported' ('agent protocol ' + $AgentProtocolVersion + ' cannot serve a request for protocol ' + $requested)
    $mismatch['version'] = $AgentProtocolVersion
    $Serializer.Serialize($mismatch)
    return
}

# Operations run in order. With stop_on_error, the first failure skips the rest, so a batch of
# writes never continues past a failed step.
$stopOnError = [bool](Get-Field $Request 'stop_on_error' $false)
$results = New-Object -TypeName System.Collections.ArrayList
$failed = $false
foreach ($op in @(Get-Field $Request 'ops' @())) {
    $id = Get-Field $op 'id'
    if ($failed -and $stopOnError) {
        $result = [ordered]@{ ok = $false; skipped = $true }
    }
    else {
        try { $result = Invoke-Operation $op }
        catch { $result = New-OpError (Get-ErrorKind $_.Exception) ([string]$_.Exception.Message) (Get-Field $op 'path') }
        if (-not $result.ok) { $failed = $true }
    }
    $result['id'] = $id
    $null = $results.Add($result)
}
$Serializer.Serialize([ordered]@{ ok = $true; version = $AgentProtocolVersion; host = (Get-HostFacts); results = $results.ToArray() })
