using Slacker.Native;

namespace Slacker.Images.Tests.Support;

/// <summary>lstat and xattrs of one path, for listings.</summary>
public sealed record FileStat(char Type, uint Mode, uint Uid, uint Gid, long Size, uint Links, uint Major, uint Minor)
{
    public static FileStat Lstat(string path)
    {
        var st = UnixFile.LStat(path);
        var type = st.Type switch
        {
            Libc.S_IFDIR => 'd',
            Libc.S_IFREG => 'f',
            Libc.S_IFLNK => 'l',
            Libc.S_IFCHR => 'c',
            Libc.S_IFBLK => 'b',
            Libc.S_IFIFO => 'p',
            _ => 's',
        };
        return new FileStat(type, st.Mode & 0xFFFu, st.Uid, st.Gid, (long)st.Size, st.Nlink, st.RdevMajor, st.RdevMinor);
    }

    public static IEnumerable<(string Name, byte[] Value)> Xattrs(string path) =>
        Native.Xattrs.List(path).Where(n => !n.StartsWith("security.selinux", StringComparison.Ordinal))
            .Select(n => (n, Native.Xattrs.Get(path, n) ?? []));
}
