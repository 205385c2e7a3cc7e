using System.Runtime.InteropServices;

namespace Slacker.Node.Containers.Native;

internal static partial class Identity
{
    [LibraryImport("libc", EntryPoint = "geteuid")]
    public static partial uint EffectiveUserId();
}
