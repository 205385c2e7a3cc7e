using System.Security.Cryptography;
using System.Text;

namespace Slacker.Images.Tests.Support;

/// <summary>
/// A file tree as one sorted text listing: path, type, mode, owner, size, SHA-256, link target, xattrs.
/// Two trees are the same when their listings are equal, which makes a failing comparison readable.
/// </summary>
public static class TreeListing
{
    public static string Of(string root, params string[] ignore)
    {
        var lines = new List<string>();
        Walk(root, "", lines, new HashSet<string>(ignore, StringComparer.Ordinal));
        lines.Sort(StringComparer.Ordinal);
        return string.Join('\n', lines);
    }

    private static void Walk(string root, string relative, List<string> lines, HashSet<string> ignore)
    {
        foreach (var full in Directory.EnumerateFileSystemEntries(Path.Combine(root, relative)))
        {
            var rel = relative.Length == 0 ? Path.GetFileName(full) : relative + "/" + Path.GetFileName(full);
            if (ignore.Contains(rel))
            {
                continue;
            }

            var info = FileStat.Lstat(full);
            lines.Add(Describe(rel, full, info));
            if (info.Type == 'd')
            {
                Walk(root, rel, lines, ignore);
            }
        }
    }

    private static string Describe(string rel, string full, FileStat info)
    {
        var line = new StringBuilder().Append(rel).Append(' ').Append(info.Type).Append(' ').Append(Convert.ToString(info.Mode, 8).PadLeft(4, '0'))
            .Append(' ').Append(info.Uid).Append(':').Append(info.Gid);
        switch (info.Type)
        {
            case 'f':
                line.Append(" size=").Append(info.Size).Append(" sha256=").Append(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(full))))
                    .Append(" links=").Append(info.Links);
                break;
            case 'l':
                line.Append(" -> ").Append(new FileInfo(full).LinkTarget);
                break;
            case 'c' or 'b':
                line.Append(" dev=").Append(info.Major).Append(',').Append(info.Minor);
                break;
        }

        foreach (var (name, value) in FileStat.Xattrs(full))
        {
            line.Append(" xattr:").Append(name).Append('=').Append(Convert.ToHexStringLower(value));
        }

        return line.ToString();
    }
}
