using System.Globalization;
using Slacker.Native.Processes;

namespace Slacker.Images.Ext4;

/// <summary>Creates and seals the ext4 file system of an image, deterministically (see <see cref="Ext4Layout"/>).</summary>
public static class Ext4Format
{
    /// <summary>A sparse file of the layout's size with an empty ext4 on it (no lost+found: docker's tree has none).</summary>
    public static async Task CreateAsync(string file, Ext4Layout layout, CancellationToken cancellationToken = default)
    {
        using (var stream = new FileStream(file, FileMode.CreateNew, FileAccess.Write))
        {
            stream.SetLength(layout.SizeBytes);
        }

        var config = file + ".mke2fs.conf";
        await File.WriteAllTextAsync(config, $"""
            [defaults]
                base_features = {Ext4Layout.Features}
                blocksize = {Ext4Layout.BlockSize}
                inode_size = {Ext4Layout.InodeSize}
                inode_ratio = 16384
                enable_periodic_fsck = 0
                default_mntopts = user_xattr
            [fs_types]
                ext4 = {"{"}
                    features = {Ext4Layout.Features}
                {"}"}
            """, cancellationToken).ConfigureAwait(false);
        try
        {
            var uuid = layout.Uuid.ToString();
            await RunAsync("mkfs.ext4",
            [
                "-F", "-q", "-t", "ext4",
                "-b", Ext4Layout.BlockSize.ToString(CultureInfo.InvariantCulture),
                "-I", Ext4Layout.InodeSize.ToString(CultureInfo.InvariantCulture),
                "-N", layout.Inodes.ToString(CultureInfo.InvariantCulture),
                "-m", "0",
                "-U", uuid,
                "-E", $"root_owner=0:0,lazy_itable_init=0,lazy_journal_init=0,nodiscard,hash_seed={uuid}",
                file,
            ], Environment(layout, config), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            File.Delete(config);
        }
    }

    /// <summary>After the last unmount: clamp every clock-derived field, then add the journal (also with the fixed clock).</summary>
    public static async Task SealAsync(string file, Ext4Layout layout, CancellationToken cancellationToken = default)
    {
        Ext4Normalizer.Normalize(file, (uint)layout.Timestamp);
        await RunAsync("tune2fs",
            ["-O", "has_journal", "-J", $"size={Ext4Layout.JournalMegabytes}", file],
            Environment(layout, "/dev/null"), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>e2fsck -fn: true when the file system is consistent. Used by tests and by --verify.</summary>
    public static async Task<(bool Clean, string Output)> CheckAsync(string file, CancellationToken cancellationToken = default)
    {
        var result = await ProcessRunner.RunAsync("e2fsck", ["-fn", file], cancellationToken: cancellationToken).ConfigureAwait(false);
        return (result.Succeeded, result.Succeeded ? result.StandardOutput : (result.StandardError + result.StandardOutput).Trim());
    }

    /// <summary>Runs an e2fsprogs tool; a failure names the command and shows what it printed.</summary>
    private static async Task RunAsync(string tool, IReadOnlyList<string> arguments, Dictionary<string, string> environment, CancellationToken cancellationToken) =>
        (await ProcessRunner.RunAsync(tool, arguments, new ProcessOptions { Environment = environment }, cancellationToken).ConfigureAwait(false))
            .EnsureSuccess($"Making the image's ext4 file system with {tool} failed");

    private static Dictionary<string, string> Environment(Ext4Layout layout, string mke2fsConfig) => new()
    {
        ["E2FSPROGS_FAKE_TIME"] = layout.Timestamp.ToString(CultureInfo.InvariantCulture),
        ["MKE2FS_CONFIG"] = mke2fsConfig,
    };
}
