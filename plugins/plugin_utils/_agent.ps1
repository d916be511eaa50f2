# Private to the remote_desktop.licensing collection; may change without notice.
#
# The one script the collection runs on a Windows host. It is a fixed interpreter of typed
# operations: every value, path and name arrives as data in $Request and is never turned into
# code. Target runtime: Windows PowerShell 5.1 on .NET Framework 4.x (no PowerShell 7 syntax).
# It prints exactly one JSON document: {"ok": true, "version": N, "host": {...}, "results": [...]}.
# The bootstrap passes the request as JSON text; the agent parses it itself.
param([string]$RequestJson)

$ErrorActionPreference = 'Stop'
$AgentProtocolVersion = 2

function Get-Field {
    param($Map, [string]$Name, $Default = $null)
    if ($Map -is [Collections.IDictionary] -and $Map.Contains($Name)) { return $Map[$Name] }
    return $Default
}

# An error is a kind, and either what .NET said (message) or a reason and its values (detail) that the controller words.
function New-OpError {
    param([string]$Kind, $Message, $Path = $null, $Reason = $null, $Detail = $null)
    return [ordered]@{ ok = $false; error = [ordered]@{ kind = $Kind; message = $Message; path = $Path; reason = $Reason; detail = $Detail } }
}

# The CimException in an exception chain, or $null.
function Find-CimException {
    param($Exception)
    $current = $Exception
    while ($null -ne $current -and $current.GetType().FullName -ne 'Microsoft.Management.Infrastructure.CimException') { $current = $current.InnerException }
    return $current
}

# What a failed CIM call says: CimException.HResult is always 0x80131500 (COR_E_EXCEPTION), so the WMI or Win32 code is read
# from ErrorData (MSFT_WmiError.error_Code) and the MI result from NativeErrorCode (AccessDenied, InvalidClass, ...).
function Get-CimFailure {
    param($Exception)
    $failure = [ordered]@{ message = [string]$Exception.Message; hresult = $null; native_error = $null }
    $cim = Find-CimException $Exception
    if ($null -eq $cim) { return $failure }
    $failure.native_error = [string]$cim.NativeErrorCode
    # ErrorData is an MSFT_WmiError CimInstance; PowerShell's CIM adapter exposes its properties by name (of $null: $null).
    $data = $cim.ErrorData
    if ($null -ne $data.error_Code) { $failure.hresult = '0x{0:X8}' -f [uint32]$data.error_Code }
    return $failure
}

# Only a missing namespace or class means the role's WMI provider is not installed; anything else is a failure.
function Test-CimNotInstalled {
    param($Failure)
    return ($Failure.native_error -eq 'InvalidNamespace' -or $Failure.native_error -eq 'InvalidClass')
}

function New-CimOpError {
    param($Failure, [string]$What)
    $kind = 'wmi_error'
    if ($Failure.native_error -eq 'AccessDenied') { $kind = 'access_denied' }
    $result = New-OpError $kind $Failure.message $What
    $result.error['hresult'] = $Failure.hresult
    $result.error['native_error'] = $Failure.native_error
    return $result
}

# The instance of a role's WMI class, or the answer to give instead: a missing namespace or class, or no instance, means
# the role is not installed (an answer, not an error); any other failure is an error.
function Get-RoleInstance {
    param([string]$Namespace, [string]$Class)
    try { $instance = Get-CimInstance -Namespace $Namespace -ClassName $Class -Shallow }
    catch {
        $failure = Get-CimFailure $_.Exception
        if (Test-CimNotInstalled $failure) {
            return [ordered]@{ ok = $true; exists = $false; reason = $failure.message; hresult = $failure.hresult; native_error = $failure.native_error }
        }
        return New-CimOpError $failure ('WMI ' + $Namespace + ' ' + $Class)
    }
    if ($null -eq $instance) { return [ordered]@{ ok = $true; exists = $false; reason = 'no ' + $Class + ' instance'; native_error = $null } }
    return $instance
}

# Maps an exception (and its inner exceptions) onto the protocol's closed set of error kinds.
function Get-ErrorKind {
    param($Exception)
    $current = $Exception
    while ($null -ne $current) {
        if ($current -is [Security.SecurityException] -or $current -is [UnauthorizedAccessException]) { return 'access_denied' }
        if ($current.GetType().FullName -eq 'Microsoft.Management.Infrastructure.CimException') {
            if ([string]$current.NativeErrorCode -eq 'AccessDenied') { return 'access_denied' }
            return 'wmi_error'
        }
        if ($current.GetType().FullName -eq 'System.ServiceProcess.TimeoutException') { return 'service_error' }
        if ($current -is [ComponentModel.Win32Exception] -and $current.NativeErrorCode -eq 5) { return 'access_denied' }
        if ($current -is [ComponentModel.Win32Exception] -and $current.NativeErrorCode -eq 1060) { return 'not_found' }
        if ($current -is [ArgumentException] -or $current -is [FormatException] -or $current -is [OverflowException]) { return 'invalid_argument' }
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

# The registry kind number of one value. .NET names seven kinds and reports every other one (REG_DWORD_BIG_ENDIAN,
# REG_LINK, REG_RESOURCE_*) as Unknown; WMI's StdRegProv lists the real numbers (SOFTWARE's 32-bit view is Wow6432Node).
function Get-RawValueKind {
    param($View, [string]$Path, [string]$Name)
    $subKey = $Path
    if ([int]$View -eq 32 -and $Path -match '^SOFTWARE\\(?!Wow6432Node)') { $subKey = 'SOFTWARE\Wow6432Node\' + $Path.Substring(9) }
    try {
        $arguments = @{ hDefKey = [uint32]2147483650; sSubKeyName = $subKey }
        $listing = Invoke-CimMethod -Namespace 'root/default' -ClassName 'StdRegProv' -MethodName 'EnumValues' -Arguments $arguments
        $names = @($listing.sNames)
        $types = @($listing.Types)
        for ($index = 0; $index -lt $names.Count; $index++) { if ($names[$index] -eq $Name) { return [int]$types[$index] } }
    }
    catch { $null = $_ }
    return $null
}

# A value the agent cannot write back exactly: its kind number and, where .NET returns them, its bytes.
function New-UnknownWireValue {
    param([string]$Name, $Kind, $Raw)
    $entry = [ordered]@{ name = $Name; type = 'unknown'; kind = $Kind; data = $null; exact = $false }
    if ($Raw -is [byte[]]) {
        $entry.data = [Convert]::ToBase64String($Raw)
        $entry.exact = $true
    }
    elseif ($Raw -is [long] -or $Raw -is [int]) { $entry.data = [Convert]::ToBase64String([BitConverter]::GetBytes($Raw)) }
    return $entry
}

# One registry value as the wire carries it: DWORD/QWORD unsigned, strings unexpanded,
# MULTI_SZ as a list, BINARY/NONE as base64, anything else as 'unknown' (New-UnknownWireValue).
function ConvertTo-WireValue {
    param($Key, [string]$Name, $View, [string]$Path)
    $kind = $Key.GetValueKind($Name)
    $raw = $Key.GetValue($Name, $null, [Microsoft.Win32.RegistryValueOptions]::DoNotExpandEnvironmentNames)
    $entry = [ordered]@{ name = $Name; type = 'none'; data = $null }
    if ($kind -eq 'DWord') {
        # .NET reads a REG_DWORD longer than 4 bytes as a long or a byte array.
        if ($raw -isnot [int]) { return New-UnknownWireValue $Name 4 $raw }
        $entry.type = 'dword'
        $entry.data = [BitConverter]::ToUInt32([BitConverter]::GetBytes([int]$raw), 0)
    }
    elseif ($kind -eq 'QWord') {
        if ($raw -isnot [long]) { return New-UnknownWireValue $Name 11 $raw }
        $entry.type = 'qword'
        $entry.data = [BitConverter]::ToUInt64([BitConverter]::GetBytes([long]$raw), 0)
    }
    elseif ($kind -eq 'String') {
        $entry.type = 'string'
        $entry.data = [string]$raw
    }
    elseif ($kind -eq 'ExpandString') {
        $entry.type = 'expandstring'
        $entry.data = [string]$raw
    }
    elseif ($kind -eq 'MultiString') {
        $entry.type = 'multistring'
        $entry.data = [string[]]@($raw)
    }
    elseif ($kind -eq 'Binary' -or $kind -eq 'None') {
        if ($kind -eq 'Binary') { $entry.type = 'binary' }
        $bytes = [byte[]]@()
        if ($null -ne $raw) { $bytes = [byte[]]$raw }
        $entry.data = [Convert]::ToBase64String($bytes)
    }
    else { return New-UnknownWireValue $Name (Get-RawValueKind $View $Path $Name) $raw }
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
        # acl: also each key's DACL (SDDL), so that a backup can carry the permissions create_key grant_users made.
        $withAcl = [bool](Get-Field $Op 'acl' $false)
        try {
            if ($Tree) {
                $keys = New-Object -TypeName Collections.ArrayList
                Add-TreeKey $key $path $keys ([int](Get-Field $Op 'max_keys' 10000)) (Get-Field $Op 'view' 64) $withAcl
                return [ordered]@{ ok = $true; exists = $true; keys = $keys.ToArray() }
            }
            $values = New-Object -TypeName Collections.ArrayList
            foreach ($name in $key.GetValueNames()) { $null = $values.Add((ConvertTo-WireValue $key $name (Get-Field $Op 'view' 64) $path)) }
            $subkeys = [string[]]@($key.GetSubKeyNames())
            $answer = [ordered]@{ ok = $true; exists = $true; values = $values.ToArray(); subkeys = $subkeys }
            if ($withAcl) { $answer['sddl'] = Get-KeyDaclSddl $key }
            return $answer
        }
        finally { $key.Dispose() }
    }
    finally { $base.Dispose() }
}

function Invoke-ServiceStatus {
    param($Op)
    $services = [ordered]@{}
    foreach ($name in @(Get-Field $Op 'names' @())) {
        $controller = New-Object -TypeName ServiceProcess.ServiceController -ArgumentList ([string]$name)
        try { $services[[string]$name] = [ordered]@{ exists = $true; status = [string]$controller.Status } }
        catch [InvalidOperationException] { $services[[string]$name] = [ordered]@{ exists = $false; status = $null } }
        finally { $controller.Dispose() }
    }
    return [ordered]@{ ok = $true; services = $services }
}

# Write operations ------------------------------------------------------------------------------
# Every write records how to undo itself in $Journal before it changes anything, so a request
# with rollback_on_error can put the registry back as it was when a later write fails.

$ValueKinds = @{
    string = 'String'
    expandstring = 'ExpandString'
    multistring = 'MultiString'
    dword = 'DWord'
    qword = 'QWord'
    binary = 'Binary'
    none = 'None'
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
        $items = New-Object -TypeName Collections.Generic.List[string]
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
    $undo = [ordered]@{
        view = (Get-Field $Op 'view' 64); path = [string](Get-Field $Op 'path' ''); name = $Name; created_key = $CreatedKey
        had_value = $false; kind = $null; raw = $null; unknown = $null
    }
    if ($null -ne $Key -and (@($Key.GetValueNames()) -contains $Name)) {
        $undo.had_value = $true
        $wire = ConvertTo-WireValue $Key $Name $undo.view $undo.path
        if ($wire.type -eq 'unknown') { $undo.unknown = $undo.path + [char]92 + $Name + ' (kind ' + [string]$wire.kind + ')' }
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
    if (-not $ValueKinds.ContainsKey($type)) { return New-OpError 'invalid_argument' $null $path 'value_type' $type }
    $data = ConvertFrom-WireData $type (Get-Field $Op 'data')
    $base = Open-LocalMachine (Get-Field $Op 'view' 64)
    try {
        $missing = Find-MissingKey $base $path
        $key = $base.CreateSubKey($path)
        try {
            $undo = New-UndoRecord $Op $key $name $missing
            if ($null -ne $undo.unknown) { return New-OpError 'unsupported' $null $path 'unknown_kind' @('set_value', $undo.unknown) }
            $null = $Journal.Add($undo)
            $key.SetValue($name, $data, $ValueKinds[$type])
            $stored = ConvertTo-WireValue $key $name (Get-Field $Op 'view' 64) $path
            return [ordered]@{ ok = $true; created_key = ($null -ne $missing); replaced = $undo.had_value; value = $stored }
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
            if ($null -ne $undo.unknown) { return New-OpError 'unsupported' $null $path 'unknown_kind' @('delete_value', $undo.unknown) }
            $null = $Journal.Add($undo)
            $key.DeleteValue($name, $false)
            return [ordered]@{ ok = $true; existed = $true }
        }
        finally { $key.Dispose() }
    }
    finally { $base.Dispose() }
}

# A key's DACL in SDDL (access section only: no owner, group or SACL); inherited ACEs carry the ID flag.
function Get-KeyDaclSddl {
    param($Key)
    return $Key.GetAccessControl('Access').GetSecurityDescriptorSddlForm('Access')
}

# A key opened with exactly these rights (RegistryRights names), or $null when it does not exist.
function Open-KeyWith {
    param($Base, [string]$Path, [string]$Rights)
    return $Base.OpenSubKey($Path, [Microsoft.Win32.RegistryKeyPermissionCheck]::ReadWriteSubTree, [Security.AccessControl.RegistryRights]$Rights)
}

# Puts a key's DACL back as recorded (a re-created key only inherits its parent's).
function Set-KeyAccessSddl {
    param($Base, [string]$Path, [string]$Sddl)
    $key = Open-KeyWith $Base $Path 'ReadPermissions, ChangePermissions'
    try {
        $security = New-Object -TypeName Security.AccessControl.RegistrySecurity
        $security.SetSecurityDescriptorSddlForm($Sddl, 'Access')
        $key.SetAccessControl($security)
    }
    finally { $key.Dispose() }
}

function Undo-Write {
    param($Undo)
    $base = Open-LocalMachine $Undo.view
    try {
        # Item access, not dot access: 'Keys' and 'Values' are also properties of a dictionary.
        if ((Get-Field $Undo 'undo' 'value') -eq 'dacl') {
            Set-KeyAccessSddl $base ([string]$Undo['path']) ([string]$Undo['sddl'])
            return
        }
        if ((Get-Field $Undo 'undo' 'value') -eq 'tree') {
            foreach ($entry in $Undo['tree']) {
                $key = $base.CreateSubKey([string]$entry['path'])
                try {
                    foreach ($value in @($entry['values'])) {
                        $key.SetValue([string]$value.name, (ConvertFrom-WireData ([string]$value.type) $value.data), $ValueKinds[[string]$value.type])
                    }
                }
                finally { $key.Dispose() }
                if ($null -ne (Get-Field $entry 'sddl')) { Set-KeyAccessSddl $base ([string]$entry['path']) ([string]$entry['sddl']) }
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
    $problems = New-Object -TypeName Collections.ArrayList
    for ($index = $Journal.Count - 1; $index -ge 0; $index--) {
        $undo = $Journal[$index]
        try { Undo-Write $undo }
        catch { $null = $problems.Add([ordered]@{ path = $undo.path; name = $undo.name; view = $undo.view; message = [string]$_.Exception.Message }) }
    }
    return [ordered]@{ performed = $true; undone = ($Journal.Count - $problems.Count); errors = $problems.ToArray() }
}

# After a failed restart: start the service once more if it ended up stopped, and say where it is now.
function Restore-ServiceRunning {
    param($Controller, $Timeout)
    try {
        $Controller.Refresh()
        if ($Controller.Status -eq 'StopPending') { $Controller.WaitForStatus('Stopped', $Timeout) }
        if ($Controller.Status -eq 'Stopped') {
            $Controller.Start()
            $Controller.WaitForStatus('Running', $Timeout)
        }
    }
    catch { $null = $_ }
    try { $Controller.Refresh(); return [string]$Controller.Status }
    catch { return 'Unknown' }
}

# Restarts services (ServiceController.Stop stops running dependents too) and starts again the
# dependents that were running, such as UmRdpService after TermService. A stop or start that fails
# or times out is a service_error that names the state the service was left in.
function Invoke-RestartService {
    param($Op)
    $timeout = New-Object -TypeName TimeSpan -ArgumentList 0, 0, ([int](Get-Field $Op 'timeout_seconds' 120))
    $report = [ordered]@{}
    foreach ($name in @(Get-Field $Op 'names' @())) {
        $controller = New-Object -TypeName ServiceProcess.ServiceController -ArgumentList ([string]$name)
        try {
            # A missing service throws here (InvalidOperationException over Win32 error 1060): not_found.
            $dependents = [string[]]@($controller.DependentServices | Where-Object { $_.Status -eq 'Running' } | ForEach-Object { $_.ServiceName })
            try {
                if ($controller.Status -ne 'Stopped') {
                    $controller.Stop()
                    $controller.WaitForStatus('Stopped', $timeout)
                }
                $controller.Start()
                $controller.WaitForStatus('Running', $timeout)
                foreach ($dependentName in $dependents) {
                    $dependent = New-Object -TypeName ServiceProcess.ServiceController -ArgumentList $dependentName
                    try {
                        if ($dependent.Status -ne 'Running') {
                            $dependent.Start()
                            $dependent.WaitForStatus('Running', $timeout)
                        }
                    }
                    finally { $dependent.Dispose() }
                }
            }
            catch {
                $cause = [string]$_.Exception.Message
                if ($null -ne $_.Exception.InnerException) { $cause = $cause + ' (' + [string]$_.Exception.InnerException.Message + ')' }
                $final = Restore-ServiceRunning $controller $timeout
                $report[[string]$name] = [ordered]@{ status = $final; restarted_dependents = @() }
                $restartError = New-OpError 'service_error' $null $null 'restart' @([string]$name, $cause, $final)
                $restartError['services'] = $report
                return $restartError
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
# write_file saves here, below %ProgramData%.
$BackupDirectory = 'RemoteDesktopLicensing\Backups'
$GracePeriodPath = 'SYSTEM\CurrentControlSet\Control\Terminal Server\RCM\GracePeriod'
# set_key_dacl acts only on these keys: the client license cache, whose DACL create_key grant_users widens. A file that
# grants rights elsewhere (a hostile .reg granting Everyone on Run keys or services) is refused here as well.
$DaclRoots = @(
    'SOFTWARE\Microsoft\MSLicensing',
    'SOFTWARE\Wow6432Node\Microsoft\MSLicensing'
)
$TimebombPattern = 'L$*TIMEBOMB*'

# Whether a key is one of the roots or below one (case-insensitive, as Windows compares key names).
function Test-UnderRoot {
    param([string]$Path, $Roots)
    $normal = $Path.Trim([char]92).ToLowerInvariant()
    foreach ($root in $Roots) {
        $lower = $root.ToLowerInvariant()
        if ($normal -eq $lower -or $normal.StartsWith($lower + [char]92)) { return $true }
    }
    return $false
}

# Appends a key and its subkeys (parents first) to $Keys, values in wire form; with $WithAcl also each key's
# DACL (SDDL), so that undoing a deleted tree puts back permissions such as create_key grant_users made.
function Add-TreeKey {
    param($Key, [string]$Path, $Keys, [int]$Limit, $View, [bool]$WithAcl)
    if ($Keys.Count -ge $Limit) {
        throw (New-Object -TypeName ArgumentException -ArgumentList ('more than ' + $Limit + ' keys in the tree; export a smaller key'))
    }
    $values = New-Object -TypeName Collections.ArrayList
    foreach ($name in $Key.GetValueNames()) { $null = $values.Add((ConvertTo-WireValue $Key $name $View $Path)) }
    $entry = [ordered]@{ path = $Path; values = $values.ToArray() }
    if ($WithAcl) {
        $entry['sddl'] = Get-KeyDaclSddl $Key
    }
    $null = $Keys.Add($entry)
    foreach ($subName in $Key.GetSubKeyNames()) {
        $sub = $Key.OpenSubKey($subName, $false)
        if ($null -eq $sub) { continue }
        try { Add-TreeKey $sub ($Path + [char]92 + $subName) $Keys $Limit $View $WithAcl }
        finally { $sub.Dispose() }
    }
}

# The first value of a tree that a rollback could not write back exactly, or $null.
function Find-UnknownValue {
    param($Keys)
    foreach ($entry in $Keys) {
        foreach ($value in @($entry['values'])) {
            if ($value['type'] -eq 'unknown') { return ([string]$entry['path'] + [char]92 + [string]$value['name'] + ' (kind ' + [string]$value['kind'] + ')') }
        }
    }
    return $null
}

function Invoke-DeleteTree {
    param($Op, $Journal)
    $path = [string](Get-Field $Op 'path' '')
    $view = Get-Field $Op 'view' 64
    if (-not (Test-UnderRoot $path $DestructiveRoots)) {
        return New-OpError 'invalid_argument' $null $path 'outside_destructive'
    }
    $base = Open-LocalMachine $view
    try {
        $key = $base.OpenSubKey($path, $false)
        if ($null -eq $key) { return [ordered]@{ ok = $true; existed = $false } }
        $keys = New-Object -TypeName Collections.ArrayList
        try { Add-TreeKey $key $path $keys 100000 $view $true }
        finally { $key.Dispose() }
        $unknown = Find-UnknownValue $keys
        if ($null -ne $unknown) { return New-OpError 'unsupported' $null $path 'unknown_kind' @('delete_tree', $unknown) }
        $null = $Journal.Add([ordered]@{ undo = 'tree'; view = $view; path = $path; tree = $keys.ToArray() })
        $base.DeleteSubKeyTree($path, $true)
        return [ordered]@{ ok = $true; existed = $true; keys = $keys.Count }
    }
    finally { $base.Dispose() }
}

# Grants BUILTIN\Users full control of a key and its subkeys (for the MSLicensing re-creation).
function Grant-UsersFullControl {
    param($Base, [string]$Path)
    $key = Open-KeyWith $Base $Path 'ReadPermissions, ChangePermissions'
    try {
        $security = $key.GetAccessControl('Access')
        $users = New-Object -TypeName Security.Principal.SecurityIdentifier -ArgumentList 'S-1-5-32-545'
        $rule = New-Object -TypeName Security.AccessControl.RegistryAccessRule -ArgumentList $users, 'FullControl', 'ContainerInherit', 'None', 'Allow'
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

# set_key_dacl: replaces the DACL of an existing key inside $DaclRoots with the SDDL given, and never its owner, group or SACL
# (only the access section is parsed and persisted). Inherited ACEs in the SDDL are ignored: an unprotected DACL gets them
# again from the parent. The undo record keeps the DACL it replaced, so rollback_on_error puts it back.
function Invoke-SetKeyDacl {
    param($Op, $Journal)
    $path = [string](Get-Field $Op 'path' '')
    $view = Get-Field $Op 'view' 64
    $sddl = [string](Get-Field $Op 'sddl' '')
    if (-not (Test-UnderRoot $path $DaclRoots)) {
        return New-OpError 'invalid_argument' $null $path 'outside_dacl'
    }
    if ($sddl -cnotmatch '^D:[A-Z]*(\([^()]*\))*$') {
        return New-OpError 'invalid_argument' $null $path 'dacl_only' $sddl
    }
    $wanted = New-Object -TypeName Security.AccessControl.RegistrySecurity
    $wanted.SetSecurityDescriptorSddlForm($sddl, 'Access')
    $base = Open-LocalMachine $view
    try {
        $key = Open-KeyWith $base $path 'ReadPermissions, ChangePermissions'
        if ($null -eq $key) { return New-OpError 'not_found' $null $path 'no_key' }
        try {
            $before = Get-KeyDaclSddl $key
            $null = $Journal.Add([ordered]@{ undo = 'dacl'; view = $view; path = $path; name = ''; sddl = $before })
            $key.SetAccessControl($wanted)
            return [ordered]@{ ok = $true; sddl_before = $before; sddl_after = (Get-KeyDaclSddl $key) }
        }
        finally { $key.Dispose() }
    }
    finally { $base.Dispose() }
}

# Saves a file under ProgramData\RemoteDesktopLicensing\Backups, readable by Administrators and SYSTEM only.
function Invoke-WriteFile {
    param($Op)
    $name = [string](Get-Field $Op 'name' '')
    if ($name -notmatch '^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$') { return New-OpError 'invalid_argument' $null $null 'file_name' $name }
    $directory = Join-Path ([Environment]::GetFolderPath('CommonApplicationData')) $BackupDirectory
    $null = [IO.Directory]::CreateDirectory($directory)
    $acl = New-Object -TypeName Security.AccessControl.DirectorySecurity
    # A protected DACL (P): Administrators (BA) and SYSTEM (SY) only, full control (FA), inherited by files and folders (OICI).
    $acl.SetSecurityDescriptorSddlForm('D:P(A;OICI;FA;;;BA)(A;OICI;FA;;;SY)', 'Access')
    [IO.Directory]::SetAccessControl($directory, $acl)
    $target = Join-Path $directory $name
    $bytes = [Convert]::FromBase64String([string](Get-Field $Op 'content' ''))
    [IO.File]::WriteAllBytes($target, $bytes)
    return [ordered]@{ ok = $true; path = $target; size = $bytes.Length }
}

# Enables a privilege on the current thread through .NET's own System.Security.AccessControl.Privilege
# (no compiled code, so it works where Add-Type is blocked); returns the object to Revert().
function Enable-ThreadPrivilege {
    param([string]$Name)
    $type = [Security.AccessControl.RegistrySecurity].Assembly.GetType('System.Security.AccessControl.Privilege')
    if ($null -eq $type) {
        throw (New-Object -TypeName NotSupportedException -ArgumentList 'this .NET Framework has no System.Security.AccessControl.Privilege')
    }
    $flags = [Reflection.BindingFlags]'Instance, NonPublic, Public'
    $privilege = [Activator]::CreateInstance($type, $flags, $null, @($Name), $null)
    $null = $type.GetMethod('Enable', $flags).Invoke($privilege, $null)
    return $privilege
}

function Get-KeySddl {
    param($Base, [string]$Path)
    $key = Open-KeyWith $Base $Path 'ReadPermissions'
    $sections = 'Owner, Access'
    try { return $key.GetAccessControl($sections).GetSecurityDescriptorSddlForm($sections) }
    finally { $key.Dispose() }
}

# Deletes the L$*TIMEBOMB* values of the GracePeriod key: take ownership as Administrators, grant
# Administrators full control, delete, then put the original owner and DACL back (SeRestorePrivilege).
function Invoke-GraceReset {
    param($Op)
    $path = [string](Get-Field $Op 'path' '')
    if ($path.ToLowerInvariant() -ne $GracePeriodPath.ToLowerInvariant()) {
        return New-OpError 'invalid_argument' $null $path 'grace_path'
    }
    $base = Open-LocalMachine 64
    $privileges = New-Object -TypeName Collections.ArrayList
    try {
        # The owner and DACL are read before anything changes: they are what is put back afterwards. Where Administrators have
        # no ACE at all (reported for 2022/2025) even this read is refused; the original owner then cannot be known, so
        # nothing is changed and the answer says that only SYSTEM can reset this key.
        try {
            $reader = $base.OpenSubKey($path, $false)
            if ($null -eq $reader) { return [ordered]@{ ok = $true; exists = $false; deleted = @() } }
            try { $names = [string[]]@($reader.GetValueNames() | Where-Object { $_ -like $TimebombPattern }) }
            finally { $reader.Dispose() }
            $original = Get-KeySddl $base $path
        }
        catch {
            if ((Get-ErrorKind $_.Exception) -ne 'access_denied') { throw }
            return New-OpError 'access_denied' $null $path 'grace_key_locked' ([string]$_.Exception.Message)
        }
        if ($names.Count -eq 0) {
            return [ordered]@{ ok = $true; exists = $true; deleted = $names; sddl_before = $original; sddl_after = $original; acl_restored = $true }
        }
        foreach ($name in @('SeTakeOwnershipPrivilege', 'SeRestorePrivilege')) { $null = $privileges.Add((Enable-ThreadPrivilege $name)) }
        $admins = New-Object -TypeName Security.Principal.SecurityIdentifier -ArgumentList 'S-1-5-32-544'
        $owner = Open-KeyWith $base $path 'TakeOwnership'
        $aclChanged = $false
        try {
            $ownerOnly = New-Object -TypeName Security.AccessControl.RegistrySecurity
            $ownerOnly.SetOwner($admins)
            $owner.SetAccessControl($ownerOnly)
            $aclChanged = $true
            $owner.Dispose()
            $owner = Open-KeyWith $base $path 'ReadPermissions, ChangePermissions'
            $security = $owner.GetAccessControl('Access')
            $security.AddAccessRule((New-Object -TypeName Security.AccessControl.RegistryAccessRule -ArgumentList $admins, 'FullControl', 'Allow'))
            $owner.SetAccessControl($security)
            $writer = $base.OpenSubKey($path, $true)
            try { foreach ($name in $names) { $writer.DeleteValue($name, $false) } }
            finally { $writer.Dispose() }
        }
        finally {
            $owner.Dispose()
            if ($aclChanged) {
                $restore = New-Object -TypeName Security.AccessControl.RegistrySecurity
                $restore.SetSecurityDescriptorSddlForm($original, 'Owner, Access')
                $back = Open-KeyWith $base $path 'TakeOwnership, ChangePermissions'
                try { $back.SetAccessControl($restore) }
                finally { $back.Dispose() }
            }
        }
        $after = Get-KeySddl $base $path
        return [ordered]@{ ok = $true; exists = $true; deleted = $names; sddl_before = $original; sddl_after = $after; acl_restored = ($after -eq $original) }
    }
    finally {
        $flags = [Reflection.BindingFlags]'Instance, NonPublic, Public'
        foreach ($privilege in $privileges) { $null = $privilege.GetType().GetMethod('Revert', $flags).Invoke($privilege, $null) }
        $base.Dispose()
    }
}

# Conditional writes ----------------------------------------------------------------------------
# A write may carry 'expect': the value its decision was based on ({exists: false}, or {exists: true, type, data} with
# data as set_value takes it). Every expectation of a request is checked before its first write; when the host no
# longer holds one, nothing is written (another run changed the value between this run's read and its write).

# A wire value as comparable text: numbers and strings as they are, MULTI_SZ as its JSON list.
function Get-WireText {
    param([string]$Type, $Data)
    if ($Type -eq 'multistring') { return $Serializer.Serialize([object[]]@($Data)) }
    return [string]$Data
}

# $null when the host holds what $Expect describes, else what it holds now: @('gone'), @('appeared', type, data) or
# @('differs', expected type, expected data, type, data) (the controller words it).
function Test-Expectation {
    param($Op, $Expect)
    $path = [string](Get-Field $Op 'path' '')
    $name = [string](Get-Field $Op 'name' '')
    $view = Get-Field $Op 'view' 64
    $current = $null
    $base = Open-LocalMachine $view
    try {
        $key = $base.OpenSubKey($path, $false)
        if ($null -ne $key) {
            try { if (@($key.GetValueNames()) -contains $name) { $current = ConvertTo-WireValue $key $name $view $path } }
            finally { $key.Dispose() }
        }
    }
    finally { $base.Dispose() }
    $wanted = [bool](Get-Field $Expect 'exists' $false)
    if ($null -eq $current) {
        if ($wanted) { return ,@('gone') }
        return $null
    }
    $now = @([string]$current.type, (Get-WireText ([string]$current.type) $current.data))
    if (-not $wanted) { return ,(@('appeared') + $now) }
    $type = [string](Get-Field $Expect 'type' '')
    $same = ([string]$current.type -eq $type) -and ((Get-WireText $type $current.data) -ceq (Get-WireText $type (Get-Field $Expect 'data')))
    if ($same) { return $null }
    return ,(@('differs', $type, (Get-WireText $type (Get-Field $Expect 'data'))) + $now)
}

# Write requests never interleave on one host: each holds this machine-wide mutex (Global\ spans logon sessions) while
# it runs, waiting a bounded time for another to finish. An abandoned mutex (its owner died) is owned by the waiter.
$WriteMutexName = 'Global\RemoteDesktopLicensingAgentWrite'
$WriteMutexWaitSeconds = 60
function Enter-WriteMutex {
    $mutex = New-Object -TypeName Threading.Mutex -ArgumentList $false, $WriteMutexName
    try { if ($mutex.WaitOne([TimeSpan]::FromSeconds($WriteMutexWaitSeconds))) { return $mutex } }
    catch [Threading.AbandonedMutexException] { return $mutex }
    $mutex.Dispose()
    return $null
}

# A CIM method's failure: through the exception or through ReturnValue (the controller reads both the same way).
function New-MethodFailure {
    param($Exception, [string]$Method, $ReturnValue)
    if ($null -ne $Exception) {
        $failure = Get-CimFailure $Exception
        $failure['return_value'] = $null
        return $failure
    }
    return [ordered]@{ message = ($Method + ' returned ' + [string]$ReturnValue); hresult = $null; native_error = $null; return_value = [long]$ReturnValue }
}

# cim_read: the classes it may read ('namespace:class', '/' for '\'; keys match case-insensitively) and the methods it may
# call on each. All of them only read, so no request can make the agent list Win32_Product or call Win32_Process.Create.
$CimCalls = @{
    'root/cimv2/TerminalServices:Win32_TerminalServiceSetting' = 'GetGracePeriodDays', 'GetSpecifiedLicenseServerList',
        'GetTStoLSConnectivityStatus', 'FindLicenseServers'
    'root/cimv2:Win32_ComputerSystem' = @()
    'root/cimv2:Win32_TSLicenseKeyPack' = @()
    'root/cimv2:Win32_TSLicenseServer' = 'GetActivationStatus', 'GetLicenseServerID', 'IsLSinTSLSGroup', 'IsLSonDC', 'IsLSSecGrpGPEnabled',
        'IsSecureAccessAllowed'
    'root/cimv2:Win32_TSIssuedLicense' = @()
    'root/cimv2:Win32_TSLicenseReport' = 'FetchReportSummaryEntries'
}

# A CIM value as JSON carries it: numbers, strings and booleans as they are, DateTime as ISO 8601 UTC, arrays item by
# item, an embedded instance as a map of the fields the request names.
function ConvertTo-CimWire {
    param($Value, $Fields)
    if ($Value -is [datetime]) { return $Value.ToUniversalTime().ToString('o') }
    if ($Value -is [Microsoft.Management.Infrastructure.CimInstance]) { return Get-CimFields $Value $Fields }
    if ($Value -is [array]) { return ,@(foreach ($item in $Value) { ConvertTo-CimWire $item $Fields }) }
    return $Value
}

function Get-CimFields {
    param($Instance, $Names)
    $map = [ordered]@{}
    # Not @($Names): that is one $null item when none are named; foreach runs no times over $null.
    foreach ($name in $Names) { $map[[string]$name] = ConvertTo-CimWire $Instance.$name }
    return $map
}

# One method call: its out parameter (even when ReturnValue says it failed) and its failure; never thrown.
function Invoke-CimCall {
    param($Instance, $Call, $Arguments)
    $method = [string](Get-Field $Call 'method')
    $answer = [ordered]@{ value = $null; error = $null }
    try {
        $reply = Invoke-CimMethod -InputObject $Instance -MethodName $method -Arguments $Arguments
        $answer.value = ConvertTo-CimWire $reply.([string](Get-Field $Call 'out')) (Get-Field $Call 'fields')
        if ([long]$reply.ReturnValue -ne 0) { $answer.error = New-MethodFailure $null $method $reply.ReturnValue }
    }
    catch { $answer.error = New-MethodFailure $_.Exception $method $null }
    return $answer
}

# cim_read: one class's instances, the properties it selects and the named method calls on each (docs/architecture.md).
# count_by answers only how many instances hold each value of one property; newest_by keeps the instance with the
# greatest value of one property. A call with 'each' runs once per name: its 'names', or an earlier call's value.
function Invoke-CimRead {
    param($Op)
    $class = [string](Get-Field $Op 'class')
    $target = ([string](Get-Field $Op 'namespace')).Replace('\', '/') + ':' + $class
    if (!$CimCalls.Contains($target)) { return New-OpError 'invalid_argument' $null $null 'cim_class' $target }
    $calls = @(Get-Field $Op 'calls' @())
    foreach ($call in $calls) {
        $method = Get-Field $call 'method'
        if ($CimCalls[$target] -notcontains $method) { return New-OpError 'invalid_argument' $null $null 'cim_method' ($target + '.' + $method) }
    }
    $found = Get-RoleInstance (Get-Field $Op 'namespace') $class
    if ($found -is [Collections.IDictionary]) { return $found }
    $result = [ordered]@{ ok = $true; exists = $true }
    $countBy = Get-Field $Op 'count_by'
    if ($null -ne $countBy) {
        $counts = @{}
        foreach ($instance in @($found)) { $counts[[string]$instance.$countBy] = 1 + $counts[[string]$instance.$countBy] }
        $result['counts'] = $counts
        return $result
    }
    $newestBy = Get-Field $Op 'newest_by'
    if ($null -ne $newestBy) { $found = $found | Sort-Object -Property $newestBy | Select-Object -Last 1 }
    $instances = New-Object -TypeName Collections.ArrayList
    foreach ($instance in @($found)) {
        $answers = New-Object -TypeName Collections.ArrayList
        foreach ($call in $calls) {
            $arguments = @{}
            $given = Get-Field $call 'args'
            if ($null -ne $given) { foreach ($key in $given.Keys) { $arguments[$key] = $given[$key] } }
            $each = Get-Field $call 'each'
            if ($null -eq $each) { $null = $answers.Add((Invoke-CimCall $instance $call $arguments)); continue }
            $names = @(Get-Field $call 'names' @())
            $from = Get-Field $call 'names_from'
            if ($null -ne $from) {
                $source = $answers[[int]$from]
                $names = @()
                if ($null -eq $source.error) { $names = @($source.value | Where-Object { $null -ne $_ }) }
            }
            $each = [string]$each
            $list = New-Object -TypeName Collections.ArrayList
            foreach ($name in $names) {
                $arguments[$each] = [string]$name
                $one = Invoke-CimCall $instance $call $arguments
                $one['name'] = [string]$name
                $null = $list.Add($one)
            }
            $null = $answers.Add($list.ToArray())
        }
        $null = $instances.Add([ordered]@{ values = Get-CimFields $instance (Get-Field $Op 'select'); calls = $answers.ToArray() })
    }
    $result['instances'] = $instances.ToArray()
    return $result
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
    if ($name -eq 'set_key_dacl') { return Invoke-SetKeyDacl $Op $Journal }
    if ($name -eq 'write_file') { return Invoke-WriteFile $Op }
    if ($name -eq 'grace_reset') { return Invoke-GraceReset $Op }
    if ($name -eq 'read_key') { return Invoke-ReadKey $Op }
    if ($name -eq 'service_status') { return Invoke-ServiceStatus $Op }
    if ($name -eq 'cim_read') { return Invoke-CimRead $Op }
    return New-OpError 'invalid_argument' $null $null 'unknown_op' $name
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
# Both assemblies are loaded by their full names from the GAC (Add-Type is kept out of the agent altogether).
# A fresh powershell.exe has not loaded System.ServiceProcess: Microsoft.PowerShell.Management brings it only when one of its
# cmdlets first runs, and the agent uses none before New-Object ServiceController. The full name loads it from the GAC on
# .NET Framework 4.x (Assembly.Load(String)); Add-Type stays out of the agent, and LoadWithPartialName is obsolete.
try {
    $null = [Reflection.Assembly]::Load('System.Web.Extensions, Version=4.0.0.0, Culture=neutral, PublicKeyToken=31bf3856ad364e35')
    $null = [Reflection.Assembly]::Load('System.ServiceProcess, Version=4.0.0.0, Culture=neutral, PublicKeyToken=b03f5f7f11d50a3a')
}
catch {
    $edition = [string]$PSVersionTable.PSEdition + ' ' + [string]$PSVersionTable.PSVersion
    '{"ok":false,"error":{"kind":"unsupported","reason":"runtime","detail":"PowerShell ' + $edition + '"}}'
    return
}
$Serializer = New-Object -TypeName Web.Script.Serialization.JavaScriptSerializer
$Serializer.MaxJsonLength = [int]::MaxValue
try { $Request = $Serializer.DeserializeObject($RequestJson) }
catch {
    $Serializer.Serialize((New-OpError 'internal' $null $null 'request_json' ([string]$_.Exception.Message)))
    return
}

$requested = [int](Get-Field $Request 'version' 0)
if ($requested -ne $AgentProtocolVersion) {
    $mismatch = New-OpError 'unsupported' $null $null 'protocol' @($AgentProtocolVersion, $requested)
    $mismatch['version'] = $AgentProtocolVersion
    $Serializer.Serialize($mismatch)
    return
}

# Operations run in order. With stop_on_error, the first failure skips the rest, so a batch of
# writes never continues past a failed step; rollback_on_error also undoes the writes before it.
$rollbackOnError = [bool](Get-Field $Request 'rollback_on_error' $false)
$stopOnError = $rollbackOnError -or [bool](Get-Field $Request 'stop_on_error' $false)
$journal = New-Object -TypeName Collections.ArrayList
$results = New-Object -TypeName Collections.ArrayList
$failed = $false
$ops = @(Get-Field $Request 'ops' @())
# A write request (rollback_on_error) runs under the host-wide write mutex; when it cannot be had, nothing runs.
$writeMutex = $null
$refusal = $null
if ($rollbackOnError) {
    try { $writeMutex = Enter-WriteMutex }
    catch { $refusal = New-OpError (Get-ErrorKind $_.Exception) $null $null 'lock' ([string]$_.Exception.Message) }
    if ($null -eq $writeMutex -and $null -eq $refusal) {
        $refusal = New-OpError 'conflict' $null $null 'busy' $WriteMutexWaitSeconds
    }
}
try {
    # Every expectation is checked before the first write; one that differs refuses the whole request.
    $conflicts = @{}
    if ($null -eq $refusal) {
        foreach ($op in $ops) {
            $expect = Get-Field $op 'expect'
            if ($null -eq $expect) { continue }
            try { $why = Test-Expectation $op $expect }
            catch { $why = @('unreadable', [string]$_.Exception.Message) }
            if ($null -ne $why) { $conflicts[[string](Get-Field $op 'id')] = New-OpError 'conflict' $null (Get-Field $op 'path') 'changed' $why }
        }
    }
    $index = 0
    foreach ($op in $ops) {
        $id = Get-Field $op 'id'
        if ($null -ne $refusal -or $conflicts.Count -gt 0) {
            $result = [ordered]@{ ok = $false; skipped = $true }
            if ($null -ne $refusal -and $index -eq 0) { $result = $refusal }
            if ($conflicts.ContainsKey([string]$id)) { $result = $conflicts[[string]$id] }
            $failed = $true
        }
        elseif ($failed -and $stopOnError) {
            $result = [ordered]@{ ok = $false; skipped = $true }
        }
        else {
            try { $result = Invoke-Operation $op $journal }
            catch { $result = New-OpError (Get-ErrorKind $_.Exception) ([string]$_.Exception.Message) (Get-Field $op 'path') }
            if (-not $result.ok) { $failed = $true }
        }
        $result['id'] = $id
        $null = $results.Add($result)
        $index++
    }
    $answer = [ordered]@{ ok = $true; version = $AgentProtocolVersion; host = (Get-HostFacts); results = $results.ToArray() }
    if ($rollbackOnError) {
        $answer['rollback'] = [ordered]@{ performed = $false; undone = 0; errors = @() }
        if ($failed) { $answer['rollback'] = Invoke-Rollback $journal }
    }
}
finally {
    if ($null -ne $writeMutex) {
        $writeMutex.ReleaseMutex()
        $writeMutex.Dispose()
    }
}
$Serializer.Serialize($answer)
