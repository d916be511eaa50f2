# Private to the remote_desktop.licensing collection; may change without notice.
#
# The one script the collection runs on a Windows host. It is a fixed interpreter of typed
# operations: every value, path and name arrives as data in $Request and is never turned into
# code. Target runtime: Windows PowerShell 5.1 on .NET Framework 4.x (no PowerShell 7 syntax).
# It prints exactly one JSON document: {"ok": true, "version": N, "host": {...}, "results": [...]}.
# The bootstrap passes the request as JSON text; the agent parses it itself.
param([string]$RequestJson)

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
        if ($current -is [System.ComponentModel.Win32Exception] -and $current.NativeErrorCode -eq 5) { return 'access_denied' }
        if ($current -is [System.ComponentModel.Win32Exception] -and $current.NativeErrorCode -eq 1060) { return 'not_found' }
        if ($current -is [System.ArgumentException] -or $current -is [System.FormatException] -or $current -is [System.OverflowException]) { return 'invalid_argument' }
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

# read_key: one key's values and subkey names. read_tree: the key and every subkey below it.
function Invoke-ReadKey {
    param($Op, [bool]$Tree = $false)
    $path = [string](Get-Field $Op 'path' '')
    $base = Open-LocalMachine (Get-Field $Op 'view' 64)
    try {
        $key = $base.OpenSubKey($path, $false)
        if ($null -eq $key) { return [ordered]@{ ok = $true; exists = $false } }
        try {
            if ($Tree) {
                $keys = New-Object -TypeName System.Collections.ArrayList
                Add-TreeKey $key $path $keys ([int](Get-Field $Op 'max_keys' 10000))
                return [ordered]@{ ok = $true; exists = $true; keys = $keys.ToArray() }
            }
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

# RD License Server: Win32_TSLicenseServer, its key packs and issued licenses counted by status
# (root\cimv2; the classes exist only where the RD Licensing role is installed).
function Invoke-WmiLicenseServer {
    param($Op)
    try { $server = Get-CimInstance -Namespace 'root/cimv2' -ClassName 'Win32_TSLicenseServer' }
    catch { return [ordered]@{ ok = $true; exists = $false; reason = [string]$_.Exception.Message } }
    if ($null -eq $server) { return [ordered]@{ ok = $true; exists = $false; reason = 'no Win32_TSLicenseServer instance' } }
    $result = [ordered]@{
        ok = $true; exists = $true
        server_role = [int]$server.ServerRole; database_path = [string]$server.DatabasePath
        product_id = [string]$server.ProductId; version = [string]$server.Version
        activation_status = $null; activation_error = $null; license_server_id = $null
        key_packs = @(); issued_by_status = [ordered]@{}
    }
    try { $result.activation_status = [int](Invoke-CimMethod -InputObject $server -MethodName 'GetActivationStatus').ActivationStatus }
    catch { $result.activation_error = [string]$_.Exception.Message }
    try { $result.license_server_id = [string](Invoke-CimMethod -InputObject $server -MethodName 'GetLicenseServerID').sLicenseServerId }
    catch { $result.license_server_id = $null }
    $packs = New-Object -TypeName System.Collections.ArrayList
    foreach ($pack in @(Get-CimInstance -Namespace 'root/cimv2' -ClassName 'Win32_TSLicenseKeyPack')) {
        $expires = $null
        if ($null -ne $pack.ExpirationDate) { $expires = ([datetime]$pack.ExpirationDate).ToUniversalTime().ToString('o') }
        $null = $packs.Add([ordered]@{
            key_pack_id = [int]$pack.KeyPackId; description = [string]$pack.Description; type_and_model = [string]$pack.TypeAndModel
            key_pack_type = [int]$pack.KeyPackType; product_type = [int]$pack.ProductType
            product_version = [string]$pack.ProductVersion; product_version_id = [int]$pack.ProductVersionID
            total = [long]$pack.TotalLicenses; issued = [long]$pack.IssuedLicenses; available = [long]$pack.AvailableLicenses
            expiration = $expires
        })
    }
    $result.key_packs = $packs.ToArray()
    # Counted here so that thousands of issued licenses do not travel back one by one.
    foreach ($license in @(Get-CimInstance -Namespace 'root/cimv2' -ClassName 'Win32_TSIssuedLicense')) {
        $status = [string][int]$license.LicenseStatus
        if ($result.issued_by_status.Contains($status)) { $result.issued_by_status[$status] = $result.issued_by_status[$status] + 1 }
        else { $result.issued_by_status[$status] = 1 }
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

# Write operations ------------------------------------------------------------------------------
# Every write records how to undo itself in $Journal before it changes anything, so a request
# with rollback_on_error can put the registry back as it was when a later write fails.

$ValueKinds = @{
    string = [Microsoft.Win32.RegistryValueKind]::String
    expandstring = [Microsoft.Win32.RegistryValueKind]::ExpandString
    multistring = [Microsoft.Win32.RegistryValueKind]::MultiString
    dword = [Microsoft.Win32.RegistryValueKind]::DWord
    qword = [Microsoft.Win32.RegistryValueKind]::QWord
    binary = [Microsoft.Win32.RegistryValueKind]::Binary
    none = [Microsoft.Win32.RegistryValueKind]::None
}

# Wire data to what RegistryKey.SetValue stores. DWORD/QWORD arrive as decimal strings (JSON
# numbers would lose QWORD precision) and are stored bit for bit through the signed .NET types.
function ConvertFrom-WireData {
    param([string]$Type, $Data)
    $culture = [Globalization.CultureInfo]::InvariantCulture
    if ($Type -eq 'dword') { return [BitConverter]::ToInt32([BitConverter]::GetBytes([UInt32]::Parse([string]$Data, $culture)), 0) }
    if ($Type -eq 'qword') { return [BitConverter]::ToInt64([BitConverter]::GetBytes([UInt64]::Parse([string]$Data, $culture)), 0) }
    if ($Type -eq 'string' -or $Type -eq 'expandstring') { return [string]$Data }
    # The unary comma keeps PowerShell from unrolling the array on return.
    if ($Type -eq 'multistring') {
        $items = New-Object -TypeName System.Collections.Generic.List[string]
        foreach ($item in @($Data)) { if ($null -ne $item) { $items.Add([string]$item) } }
        return ,$items.ToArray()
    }
    return ,[Convert]::FromBase64String([string]$Data)
}

# The shallowest key of $Path that does not exist yet; deleting it undoes CreateSubKey.
function Find-MissingKey {
    param($Base, [string]$Path)
    $sofar = ''
    foreach ($part in $Path.Split([char]92)) {
        if ($part -eq '') { continue }
        if ($sofar -eq '') { $sofar = $part } else { $sofar = $sofar + [char]92 + $part }
        $probe = $Base.OpenSubKey($sofar, $false)
        if ($null -eq $probe) { return $sofar }
        $probe.Dispose()
    }
    return $null
}

function New-UndoRecord {
    param($Op, $Key, [string]$Name, $CreatedKey)
    $undo = [ordered]@{ view = (Get-Field $Op 'view' 64); path = [string](Get-Field $Op 'path' ''); name = $Name; created_key = $CreatedKey; had_value = $false; kind = $null; raw = $null }
    if ($null -ne $Key -and (@($Key.GetValueNames()) -contains $Name)) {
        $undo.had_value = $true
        $undo.kind = $Key.GetValueKind($Name)
        $undo.raw = $Key.GetValue($Name, $null, [Microsoft.Win32.RegistryValueOptions]::DoNotExpandEnvironmentNames)
    }
    return $undo
}

function Invoke-SetValue {
    param($Op, $Journal)
    $path = [string](Get-Field $Op 'path' '')
    $name = [string](Get-Field $Op 'name' '')
    $type = [string](Get-Field $Op 'type' '')
    if (-not $ValueKinds.ContainsKey($type)) { return New-OpError 'invalid_argument' ('unknown value type: ' + $type) $path }
    $data = ConvertFrom-WireData $type (Get-Field $Op 'data')
    $base = Open-LocalMachine (Get-Field $Op 'view' 64)
    try {
        $missing = Find-MissingKey $base $path
        $key = $base.CreateSubKey($path)
        try {
            $undo = New-UndoRecord $Op $key $name $missing
            $null = $Journal.Add($undo)
            $key.SetValue($name, $data, $ValueKinds[$type])
            return [ordered]@{ ok = $true; created_key = ($null -ne $missing); replaced = $undo.had_value; value = (ConvertTo-WireValue $key $name) }
        }
        finally { $key.Dispose() }
    }
    finally { $base.Dispose() }
}

function Invoke-DeleteValue {
    param($Op, $Journal)
    $path = [string](Get-Field $Op 'path' '')
    $name = [string](Get-Field $Op 'name' '')
    $base = Open-LocalMachine (Get-Field $Op 'view' 64)
    try {
        $key = $base.OpenSubKey($path, $true)
        if ($null -eq $key) { return [ordered]@{ ok = $true; existed = $false } }
        try {
            $undo = New-UndoRecord $Op $key $name $null
            if (-not $undo.had_value) { return [ordered]@{ ok = $true; existed = $false } }
            $null = $Journal.Add($undo)
            $key.DeleteValue($name, $false)
            return [ordered]@{ ok = $true; existed = $true }
        }
        finally { $key.Dispose() }
    }
    finally { $base.Dispose() }
}

function Undo-Write {
    param($Undo)
    $base = Open-LocalMachine $Undo.view
    try {
        # Item access, not dot access: 'Keys' and 'Values' are also properties of a dictionary.
        if ((Get-Field $Undo 'undo' 'value') -eq 'tree') {
            foreach ($entry in $Undo['tree']) {
                $key = $base.CreateSubKey([string]$entry['path'])
                try {
                    foreach ($value in @($entry['values'])) { $key.SetValue([string]$value.name, (ConvertFrom-WireData ([string]$value.type) $value.data), $ValueKinds[[string]$value.type]) }
                }
                finally { $key.Dispose() }
            }
            return
        }
        if ($null -ne $Undo.created_key) {
            $base.DeleteSubKeyTree($Undo.created_key, $false)
            return
        }
        $key = $base.OpenSubKey($Undo.path, $true)
        if ($null -eq $key) { return }
        try {
            if ($Undo.had_value) { $key.SetValue($Undo.name, $Undo.raw, $Undo.kind) }
            else { $key.DeleteValue($Undo.name, $false) }
        }
        finally { $key.Dispose() }
    }
    finally { $base.Dispose() }
}

# Undoes the journal newest first; returns what could not be undone.
function Invoke-Rollback {
    param($Journal)
    $problems = New-Object -TypeName System.Collections.ArrayList
    for ($index = $Journal.Count - 1; $index -ge 0; $index--) {
        $undo = $Journal[$index]
        try { Undo-Write $undo }
        catch { $null = $problems.Add([ordered]@{ path = $undo.path; name = $undo.name; view = $undo.view; message = [string]$_.Exception.Message }) }
    }
    return [ordered]@{ performed = $true; undone = ($Journal.Count - $problems.Count); errors = $problems.ToArray() }
}

# Restarts services (ServiceController.Stop stops running dependents too) and starts again the
# dependents that were running, such as UmRdpService after TermService.
function Invoke-RestartService {
    param($Op)
    $timeout = New-Object -TypeName TimeSpan -ArgumentList 0, 0, ([int](Get-Field $Op 'timeout_seconds' 120))
    $report = [ordered]@{}
    foreach ($name in @(Get-Field $Op 'names' @())) {
        $controller = New-Object -TypeName System.ServiceProcess.ServiceController -ArgumentList ([string]$name)
        try {
            $dependents = [string[]]@($controller.DependentServices | Where-Object { $_.Status -eq 'Running' } | ForEach-Object { $_.ServiceName })
            if ($controller.Status -ne 'Stopped') {
                $controller.Stop()
                $controller.WaitForStatus('Stopped', $timeout)
            }
            $controller.Start()
            $controller.WaitForStatus('Running', $timeout)
            foreach ($dependentName in $dependents) {
                $dependent = New-Object -TypeName System.ServiceProcess.ServiceController -ArgumentList $dependentName
                try {
                    if ($dependent.Status -ne 'Running') {
                        $dependent.Start()
                        $dependent.WaitForStatus('Running', $timeout)
                    }
                }
                finally { $dependent.Dispose() }
            }
            $controller.Refresh()
            $report[[string]$name] = [ordered]@{ status = [string]$controller.Status; restarted_dependents = $dependents }
        }
        finally { $controller.Dispose() }
    }
    return [ordered]@{ ok = $true; services = $report }
}

# Whole trees, the destructive allow-list, files and the grace period ------------------------------

# delete_tree and grace_reset act only on these keys (the 32-bit view of SOFTWARE is Wow6432Node).
# The controller enforces the same list; this copy stops a request the controller did not build.
$DestructiveRoots = @(
    'SOFTWARE\Microsoft\MSLicensing',
    'SOFTWARE\Wow6432Node\Microsoft\MSLicensing',
    'SYSTEM\CurrentControlSet\Control\Terminal Server\RCM\GracePeriod'
)
$GracePeriodPath = 'SYSTEM\CurrentControlSet\Control\Terminal Server\RCM\GracePeriod'
$TimebombPattern = 'L$*TIMEBOMB*'

function Test-DestructiveAllowed {
    param([string]$Path)
    $normal = $Path.Trim([char]92).ToLowerInvariant()
    foreach ($root in $DestructiveRoots) {
        $lower = $root.ToLowerInvariant()
        if ($normal -eq $lower -or $normal.StartsWith($lower + [char]92)) { return $true }
    }
    return $false
}

# Appends a key and its subkeys (parents first) to $Keys, values in wire form.
function Add-TreeKey {
    param($Key, [string]$Path, $Keys, [int]$Limit)
    if ($Keys.Count -ge $Limit) { throw (New-Object -TypeName System.ArgumentException -ArgumentList ('more than ' + $Limit + ' keys in the tree; export a smaller key')) }
    $values = New-Object -TypeName System.Collections.ArrayList
    foreach ($name in $Key.GetValueNames()) { $null = $values.Add((ConvertTo-WireValue $Key $name)) }
    $null = $Keys.Add([ordered]@{ path = $Path; values = $values.ToArray() })
    foreach ($subName in $Key.GetSubKeyNames()) {
        $sub = $Key.OpenSubKey($subName, $false)
        if ($null -eq $sub) { continue }
        try { Add-TreeKey $sub ($Path + [char]92 + $subName) $Keys $Limit }
        finally { $sub.Dispose() }
    }
}

function Invoke-DeleteTree {
    param($Op, $Journal)
    $path = [string](Get-Field $Op 'path' '')
    $view = Get-Field $Op 'view' 64
    if (-not (Test-DestructiveAllowed $path)) { return New-OpError 'invalid_argument' ('delete_tree is refused outside the destructive allow-list: ' + $path) $path }
    $base = Open-LocalMachine $view
    try {
        $key = $base.OpenSubKey($path, $false)
        if ($null -eq $key) { return [ordered]@{ ok = $true; existed = $false } }
        $keys = New-Object -TypeName System.Collections.ArrayList
        try { Add-TreeKey $key $path $keys 100000 }
        finally { $key.Dispose() }
        $null = $Journal.Add([ordered]@{ undo = 'tree'; view = $view; path = $path; tree = $keys.ToArray() })
        $base.DeleteSubKeyTree($path, $true)
        return [ordered]@{ ok = $true; existed = $true; keys = $keys.Count }
    }
    finally { $base.Dispose() }
}

# Grants BUILTIN\Users full control of a key and its subkeys (for the MSLicensing re-creation).
function Grant-UsersFullControl {
    param($Base, [string]$Path)
    $rights = [System.Security.AccessControl.RegistryRights]'ReadPermissions, ChangePermissions'
    $key = $Base.OpenSubKey($Path, [Microsoft.Win32.RegistryKeyPermissionCheck]::ReadWriteSubTree, $rights)
    try {
        $security = $key.GetAccessControl([System.Security.AccessControl.AccessControlSections]::Access)
        $users = New-Object -TypeName System.Security.Principal.SecurityIdentifier -ArgumentList 'S-1-5-32-545'
        $rule = New-Object -TypeName System.Security.AccessControl.RegistryAccessRule -ArgumentList $users, 'FullControl', 'ContainerInherit', 'None', 'Allow'
        $security.AddAccessRule($rule)
        $key.SetAccessControl($security)
    }
    finally { $key.Dispose() }
}

function Invoke-CreateKey {
    param($Op, $Journal)
    $path = [string](Get-Field $Op 'path' '')
    $view = Get-Field $Op 'view' 64
    $base = Open-LocalMachine $view
    try {
        $missing = Find-MissingKey $base $path
        if ($null -ne $missing) {
            $null = $Journal.Add([ordered]@{ view = $view; path = $path; name = ''; created_key = $missing; had_value = $false; kind = $null; raw = $null })
            $base.CreateSubKey($path).Dispose()
        }
        if ([bool](Get-Field $Op 'grant_users' $false)) { Grant-UsersFullControl $base $path }
        return [ordered]@{ ok = $true; created = ($null -ne $missing) }
    }
    finally { $base.Dispose() }
}

# Saves a file under ProgramData\RemoteDesktopLicensing\Backups, readable by Administrators and SYSTEM only.
function Invoke-WriteFile {
    param($Op)
    $name = [string](Get-Field $Op 'name' '')
    if ($name -notmatch '^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$') { return New-OpError 'invalid_argument' ('not a plain file name: ' + $name) }
    $directory = Join-Path ([Environment]::GetFolderPath('CommonApplicationData')) 'RemoteDesktopLicensing\Backups'
    $null = [System.IO.Directory]::CreateDirectory($directory)
    $acl = New-Object -TypeName System.Security.AccessControl.DirectorySecurity
    $acl.SetAccessRuleProtection($true, $false)
    foreach ($sid in @('S-1-5-32-544', 'S-1-5-18')) {
        $identity = New-Object -TypeName System.Security.Principal.SecurityIdentifier -ArgumentList $sid
        $acl.AddAccessRule((New-Object -TypeName System.Security.AccessControl.FileSystemAccessRule -ArgumentList $identity, 'FullControl', 'ContainerInherit, ObjectInherit', 'None', 'Allow'))
    }
    [System.IO.Directory]::SetAccessControl($directory, $acl)
    $target = Join-Path $directory $name
    $bytes = [Convert]::FromBase64String([string](Get-Field $Op 'content' ''))
    [System.IO.File]::WriteAllBytes($target, $bytes)
    return [ordered]@{ ok = $true; path = $target; size = $bytes.Length }
}

# Enables a privilege on the current thread through .NET's own System.Security.AccessControl.Privilege
# (no compiled code, so it works where Add-Type is blocked); returns the object to Revert().
function Enable-ThreadPrivilege {
    param([string]$Name)
    $type = [System.Security.AccessControl.RegistrySecurity].Assembly.GetType('System.Security.AccessControl.Privilege')
    if ($null -eq $type) { throw (New-Object -TypeName System.NotSupportedException -ArgumentList 'this .NET Framework has no System.Security.AccessControl.Privilege') }
    $flags = [System.Reflection.BindingFlags]'Instance, NonPublic, Public'
    $privilege = [Activator]::CreateInstance($type, $flags, $null, @($Name), $null)
    $null = $type.GetMethod('Enable', $flags).Invoke($privilege, $null)
    return $privilege
}

function Get-KeySddl {
    param($Base, [string]$Path)
    $key = $Base.OpenSubKey($Path, [Microsoft.Win32.RegistryKeyPermissionCheck]::ReadSubTree, [System.Security.AccessControl.RegistryRights]'ReadPermissions')
    try { return $key.GetAccessControl([System.Security.AccessControl.AccessControlSections]'Owner, Access').GetSecurityDescriptorSddlForm([System.Security.AccessControl.AccessControlSections]'Owner, Access') }
    finally { $key.Dispose() }
}

# Deletes the L$*TIMEBOMB* values of the GracePeriod key: take ownership as Administrators, grant
# Administrators full control, delete, then put the original owner and DACL back (SeRestorePrivilege).
function Invoke-GraceReset {
    param($Op)
    $path = [string](Get-Field $Op 'path' '')
    if ($path.ToLowerInvariant() -ne $GracePeriodPath.ToLowerInvariant()) { return New-OpError 'invalid_argument' ('grace_reset only acts on ' + $GracePeriodPath) $path }
    $base = Open-LocalMachine 64
    $privileges = New-Object -TypeName System.Collections.ArrayList
    try {
        $reader = $base.OpenSubKey($path, $false)
        if ($null -eq $reader) { return [ordered]@{ ok = $true; exists = $false; deleted = @() } }
        try { $names = [string[]]@($reader.GetValueNames() | Where-Object { $_ -like $TimebombPattern }) }
        finally { $reader.Dispose() }
        $original = Get-KeySddl $base $path
        if ($names.Count -eq 0) { return [ordered]@{ ok = $true; exists = $true; deleted = $names; sddl_before = $original; sddl_after = $original; acl_restored = $true } }
        foreach ($name in @('SeTakeOwnershipPrivilege', 'SeRestorePrivilege')) { $null = $privileges.Add((Enable-ThreadPrivilege $name)) }
        $admins = New-Object -TypeName System.Security.Principal.SecurityIdentifier -ArgumentList 'S-1-5-32-544'
        $check = [Microsoft.Win32.RegistryKeyPermissionCheck]::ReadWriteSubTree
        $owner = $base.OpenSubKey($path, $check, [System.Security.AccessControl.RegistryRights]'TakeOwnership')
        $aclChanged = $false
        try {
            $ownerOnly = New-Object -TypeName System.Security.AccessControl.RegistrySecurity
            $ownerOnly.SetOwner($admins)
            $owner.SetAccessControl($ownerOnly)
            $aclChanged = $true
            $owner.Dispose()
            $owner = $base.OpenSubKey($path, $check, [System.Security.AccessControl.RegistryRights]'ReadPermissions, ChangePermissions')
            $security = $owner.GetAccessControl([System.Security.AccessControl.AccessControlSections]::Access)
            $security.AddAccessRule((New-Object -TypeName System.Security.AccessControl.RegistryAccessRule -ArgumentList $admins, 'FullControl', 'Allow'))
            $owner.SetAccessControl($security)
            $writer = $base.OpenSubKey($path, $true)
            try { foreach ($name in $names) { $writer.DeleteValue($name, $false) } }
            finally { $writer.Dispose() }
        }
        finally {
            $owner.Dispose()
            if ($aclChanged) {
                $restore = New-Object -TypeName System.Security.AccessControl.RegistrySecurity
                $restore.SetSecurityDescriptorSddlForm($original, [System.Security.AccessControl.AccessControlSections]'Owner, Access')
                $back = $base.OpenSubKey($path, $check, [System.Security.AccessControl.RegistryRights]'TakeOwnership, ChangePermissions')
                try { $back.SetAccessControl($restore) }
                finally { $back.Dispose() }
            }
        }
        $after = Get-KeySddl $base $path
        return [ordered]@{ ok = $true; exists = $true; deleted = $names; sddl_before = $original; sddl_after = $after; acl_restored = ($after -eq $original) }
    }
    finally {
        foreach ($privilege in $privileges) { $null = $privilege.GetType().GetMethod('Revert', [System.Reflection.BindingFlags]'Instance, NonPublic, Public').Invoke($privilege, $null) }
        $base.Dispose()
    }
}

function Invoke-Operation {
    param($Op, $Journal)
    $name = [string](Get-Field $Op 'op' '')
    if ($name -eq 'set_value') { return Invoke-SetValue $Op $Journal }
    if ($name -eq 'delete_value') { return Invoke-DeleteValue $Op $Journal }
    if ($name -eq 'restart_service') { return Invoke-RestartService $Op }
    if ($name -eq 'read_tree') { return Invoke-ReadKey $Op $true }
    if ($name -eq 'delete_tree') { return Invoke-DeleteTree $Op $Journal }
    if ($name -eq 'create_key') { return Invoke-CreateKey $Op $Journal }
    if ($name -eq 'write_file') { return Invoke-WriteFile $Op }
    if ($name -eq 'grace_reset') { return Invoke-GraceReset $Op }
    if ($name -eq 'read_key') { return Invoke-ReadKey $Op }
    if ($name -eq 'wmi_terminal_service') { return Invoke-WmiTerminalService $Op }
    if ($name -eq 'computer_system') { return Invoke-ComputerSystem $Op }
    if ($name -eq 'wmi_license_server') { return Invoke-WmiLicenseServer $Op }
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

# JavaScriptSerializer is part of .NET Framework, not of .NET (Core): PowerShell 7 ends here, clearly.
# Loaded by its full name from the GAC (Add-Type is kept out of the agent altogether).
try { $null = [Reflection.Assembly]::Load('System.Web.Extensions, Version=4.0.0.0, Culture=neutral, PublicKeyToken=31bf3856ad364e35') }
catch {
    $edition = [string]$PSVersionTable.PSEdition + ' ' + [string]$PSVersionTable.PSVersion
    '{"ok":false,"error":{"kind":"unsupported","reason":"runtime","message":"the agent needs Windows PowerShell 5.1; this is PowerShell ' + $edition + '"}}'
    return
}
$Serializer = New-Object -TypeName System.Web.Script.Serialization.JavaScriptSerializer
$Serializer.MaxJsonLength = [int]::MaxValue
try { $Request = $Serializer.DeserializeObject($RequestJson) }
catch {
    $Serializer.Serialize((New-OpError 'internal' ('the request is not valid JSON: ' + [string]$_.Exception.Message)))
    return
}

$requested = [int](Get-Field $Request 'version' 0)
if ($requested -ne $AgentProtocolVersion) {
    $mismatch = New-OpError 'unsupported' ('agent protocol ' + $AgentProtocolVersion + ' cannot serve a request for protocol ' + $requested)
    $mismatch['version'] = $AgentProtocolVersion
    $Serializer.Serialize($mismatch)
    return
}

# Operations run in order. With stop_on_error, the first failure skips the rest, so a batch of
# writes never continues past a failed step; rollback_on_error also undoes the writes before it.
$rollbackOnError = [bool](Get-Field $Request 'rollback_on_error' $false)
$stopOnError = $rollbackOnError -or [bool](Get-Field $Request 'stop_on_error' $false)
$journal = New-Object -TypeName System.Collections.ArrayList
$results = New-Object -TypeName System.Collections.ArrayList
$failed = $false
foreach ($op in @(Get-Field $Request 'ops' @())) {
    $id = Get-Field $op 'id'
    if ($failed -and $stopOnError) {
        $result = [ordered]@{ ok = $false; skipped = $true }
    }
    else {
        try { $result = Invoke-Operation $op $journal }
        catch { $result = New-OpError (Get-ErrorKind $_.Exception) ([string]$_.Exception.Message) (Get-Field $op 'path') }
        if (-not $result.ok) { $failed = $true }
    }
    $result['id'] = $id
    $null = $results.Add($result)
}
$answer = [ordered]@{ ok = $true; version = $AgentProtocolVersion; host = (Get-HostFacts); results = $results.ToArray() }
if ($rollbackOnError) {
    $answer['rollback'] = [ordered]@{ performed = $false; undone = 0; errors = @() }
    if ($failed) { $answer['rollback'] = Invoke-Rollback $journal }
}
$Serializer.Serialize($answer)
