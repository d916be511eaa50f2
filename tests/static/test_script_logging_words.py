"""docs/security.md names every word of PowerShell's suspicious-content list that the scripts contain
(each one makes Windows PowerShell 5.1 log a Warning event 4104), so security teams can allow them."""

from __future__ import annotations

import os
import re

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _agent_payload as payload
from tests.helpers.paths import ROOT

# PowerShell's built-in list (CompiledScriptBlock.cs, s_signatures), as in Windows PowerShell 5.1.
SUSPICIOUS_WORDS = """
Add-Type DllImport DefineDynamicAssembly DefineDynamicModule DefineType DefineConstructor CreateType DefineLiteral
DefineEnum DefineField ILGenerator Emit UnverifiableCodeAttribute DefinePInvokeMethod GetTypes GetAssemblies Methods
Properties GetConstructor GetConstructors GetDefaultMembers GetEvent GetEvents GetField GetFields GetInterface
GetInterfaceMap GetInterfaces GetMember GetMembers GetMethod GetMethods GetNestedType GetNestedTypes GetProperties
GetProperty InvokeMember MakeArrayType MakeByRefType MakeGenericType MakePointerType DeclaringMethod DeclaringType
ReflectedType TypeHandle TypeInitializer UnderlyingSystemType InteropServices Marshal AllocHGlobal PtrToStructure
StructureToPtr FreeHGlobal IntPtr MemoryStream DeflateStream FromBase64String EncodedCommand Bypass ToBase64String
ExpandString GetPowerShell OpenProcess VirtualAlloc VirtualFree WriteProcessMemory CreateUserThread CloseHandle
GetDelegateForFunctionPointer kernel32 CreateThread memcpy LoadLibrary GetModuleHandle GetProcAddress VirtualProtect
FreeLibrary ReadProcessMemory CreateRemoteThread AdjustTokenPrivileges WriteByte WriteInt32 OpenThreadToken
PtrToString ZeroFreeGlobalAllocUnicode OpenProcessToken GetTokenInformation SetThreadToken ImpersonateLoggedOnUser
RevertToSelf GetLogonSessionData CreateProcessWithToken DuplicateTokenEx OpenWindowStation OpenDesktop
MiniDumpWriteDump AddSecurityPackage EnumerateSecurityPackages GetProcessHandle DangerousGetHandle
CryptoServiceProvider Cryptography RijndaelManaged SHA1Managed CryptoStream CreateEncryptor CreateDecryptor
TransformFinalBlock DeviceIoControl SetInformationProcess PasswordDeriveBytes GetAsyncKeyState GetKeyboardState
GetForegroundWindow BindingFlags NonPublic ScriptBlockLogging LogPipelineExecutionDetails ProtectedEventLogging
""".split()
SCRIPTS = {"agent": payload.agent_text, "bootstrap": payload.bootstrap_text}


def words_in(text: str) -> set[str]:
    lower = text.lower()
    return {word for word in SUSPICIOUS_WORDS if word.lower() in lower}


def documented() -> dict[str, set[str]]:
    with open(os.path.join(ROOT, "docs", "security.md"), encoding="utf-8") as handle:
        rows = re.findall(r"^\| `([^`]+)` \| (agent|bootstrap) \|", handle.read(), re.MULTILINE)
    table: dict[str, set[str]] = {name: set() for name in SCRIPTS}
    for word, script in rows:
        table[script].add(word)
    return table


def test_docs_name_exactly_the_words_the_scripts_contain():
    table = documented()
    for name, text in SCRIPTS.items():
        assert words_in(text()) == table[name], name


def test_word_finder_is_not_vacuous():
    assert words_in("$t.GetMethod('x', [Reflection.BindingFlags]'NonPublic')") == {"GetMethod", "BindingFlags", "NonPublic"}
    assert words_in("Get-Item x") == set()
