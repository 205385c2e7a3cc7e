using System.Formats.Tar;
using System.IO.Compression;
using System.Runtime.InteropServices;
using Slacker.Images.Export;
using Slacker.Native;
using Slacker.Native.Processes;

namespace Slacker.Bench.Tests;

public sealed class LayerWriterTests : IDisposable
{
    private static readonly DateTimeOffset Epoch = DateTimeOffset.FromUnixTimeSeconds(1_686_355_200);
    private readonly string _dir = Directory.CreateTempSubdirectory("hb-layer-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Statx_Struct_Has_The_Kernel_Size() => Assert.Equal(256, Marshal.SizeOf<Statx>());

    [Fact]
    public async Task Overlay_Upper_Whiteouts_And_Opaque_Dirs_Become_Oci_Entries()
    {
        var upper = await MakeUpperWithDeletionsAsync();
        Assert.Contains(Directory.EnumerateFileSystemEntries(upper), p => UnixFile.LStat(p).Type == Libc.S_IFCHR);

        var blob = LayerBlobWriter.Write(upper, new TreeTarOptions { Epoch = Epoch, OverlayUpper = true }, Path.Combine(_dir, "blobs"));
        var entries = ReadLayer(Path.Combine(_dir, "blobs"), blob);
        var names = entries.Select(e => e.Name).ToList();

        var whiteout = Assert.Single(entries, e => e.Name == ".wh.gone");
        Assert.Equal(TarEntryType.RegularFile, whiteout.EntryType);
        Assert.Equal(0, whiteout.Length);
        Assert.DoesNotContain(entries, e => e.EntryType == TarEntryType.CharacterDevice);
        Assert.DoesNotContain("gone", names);

        var dirIndex = names.IndexOf("dir/");
        Assert.True(dirIndex >= 0, string.Join(", ", names));
        Assert.Equal("dir/.wh..wh..opq", names[dirIndex + 1]);
        Assert.Contains("dir/fresh", names);
        Assert.DoesNotContain("dir/old", names);
        Assert.DoesNotContain(entries, e => e.ExtendedAttributes.Keys.Any(k => k.Contains("overlay", StringComparison.Ordinal)));
        Assert.Equal(entries.Count, blob.Entries);
    }

    [Fact]
    public async Task Same_Tree_Written_Twice_Gives_The_Same_Digest()
    {
        var upper = await MakeUpperWithDeletionsAsync();
        AddEveryKindOfInode(upper);

        var first = LayerBlobWriter.Write(upper, new TreeTarOptions { Epoch = Epoch, OverlayUpper = true }, Path.Combine(_dir, "blobs-1"));
        File.SetLastAccessTime(Path.Combine(upper, "data"), DateTime.UtcNow);
        var second = LayerBlobWriter.Write(upper, new TreeTarOptions { Epoch = Epoch, OverlayUpper = true }, Path.Combine(_dir, "blobs-2"));

        Assert.Equal(first.Digest, second.Digest);
        Assert.Equal(first.DiffId, second.DiffId);
        Assert.Equal(first.Size, new FileInfo(Path.Combine(_dir, "blobs-1", "sha256", first.Digest.Hex)).Length);
        Assert.NotEqual(first.Digest, first.DiffId);
        var tar = System.Text.Encoding.Latin1.GetString(Gunzip(Path.Combine(_dir, "blobs-1"), first));
        Assert.DoesNotContain($".{Environment.ProcessId}/", tar, StringComparison.Ordinal);

        File.AppendAllText(Path.Combine(upper, "data"), "changed");
        var third = LayerBlobWriter.Write(upper, new TreeTarOptions { Epoch = Epoch, OverlayUpper = true }, Path.Combine(_dir, "blobs-3"));
        Assert.NotEqual(first.Digest, third.Digest);
    }

    [Fact]
    public void Metadata_Survives_Into_The_Layer()
    {
        var tree = Directory.CreateDirectory(Path.Combine(_dir, "tree")).FullName;
        AddEveryKindOfInode(tree);

        var blob = LayerBlobWriter.Write(tree, new TreeTarOptions { Epoch = Epoch }, Path.Combine(_dir, "blobs"));
        var entries = ReadLayer(Path.Combine(_dir, "blobs"), blob).ToDictionary(e => e.Name);

        var data = entries["data"];
        Assert.Equal(1234, data.Uid);
        Assert.Equal(5678, data.Gid);
        Assert.Equal((UnixFileMode)0x1E4, data.Mode);
        Assert.Equal("hello", data.ExtendedAttributes["SCHILY.xattr.user.hellobench"]);
        Assert.Equal(Epoch, data.ModificationTime);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_000_000_000), entries["old"].ModificationTime);

        Assert.Equal(TarEntryType.HardLink, entries["data-link"].EntryType);
        Assert.Equal("data", entries["data-link"].LinkName);
        Assert.Equal(TarEntryType.SymbolicLink, entries["symlink"].EntryType);
        Assert.Equal("data", entries["symlink"].LinkName);
        Assert.Equal(TarEntryType.Fifo, entries["fifo"].EntryType);
        Assert.Equal(TarEntryType.CharacterDevice, entries["null"].EntryType);
        Assert.Equal(1, entries["null"].DeviceMajor);
        Assert.Equal(3, entries["null"].DeviceMinor);
        Assert.Equal(TarEntryType.Directory, entries["sub/"].EntryType);
        Assert.Equal((UnixFileMode)0x3FF, entries["sub/"].Mode & (UnixFileMode)0xFFF);
    }

    [Fact]
    public void Binary_Xattr_Values_Are_Kept_Byte_For_Byte()
    {
        var tree = Directory.CreateDirectory(Path.Combine(_dir, "caps")).FullName;
        var file = Path.Combine(tree, "ping");
        File.WriteAllText(file, "pretend ping");
        byte[] value = [0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0xff, 0xfe];
        Assert.Equal(0, Xattrs.Set(file, "user.binary", value));

        var blob = LayerBlobWriter.Write(tree, new TreeTarOptions { Epoch = Epoch }, Path.Combine(_dir, "blobs"));

        var tar = Gunzip(Path.Combine(_dir, "blobs"), blob);
        Assert.True(tar.AsSpan().IndexOf([.. "SCHILY.xattr.user.binary="u8, .. value, (byte)'\n']) >= 0);
        var entry = Assert.Single(ReadLayer(Path.Combine(_dir, "blobs"), blob));
        Assert.Equal("ping", entry.Name);
        Assert.Equal(Epoch, entry.ModificationTime);
    }

    [Fact]
    public void Normalized_Tree_Under_A_Prefix_Ignores_Owner_Mode_And_Time()
    {
        var tree = Directory.CreateDirectory(Path.Combine(_dir, "assets")).FullName;
        File.WriteAllText(Path.Combine(tree, "main.c"), "int main(void) { return 0; }\n");
        UnixFile.ChangeOwner(Path.Combine(tree, "main.c"), 1000, 1000);

        var blob = LayerBlobWriter.Write(tree, new TreeTarOptions { Epoch = Epoch, Normalize = true, Prefix = "go/src" }, Path.Combine(_dir, "blobs"));
        var entries = ReadLayer(Path.Combine(_dir, "blobs"), blob);

        Assert.Equal(["go/", "go/src/", "go/src/main.c"], entries.Select(e => e.Name));
        Assert.All(entries, e => Assert.Equal(0, e.Uid));
        Assert.All(entries, e => Assert.Equal(Epoch, e.ModificationTime));
        Assert.Equal((UnixFileMode)0x1A4, entries[2].Mode);
    }

    [Fact]
    public void Empty_Tree_Gives_A_Valid_Empty_Tar_Gzip()
    {
        var empty = Directory.CreateDirectory(Path.Combine(_dir, "empty")).FullName;

        var blob = LayerBlobWriter.Write(empty, new TreeTarOptions { Epoch = Epoch, OverlayUpper = true }, Path.Combine(_dir, "blobs"));

        Assert.Equal(1024, blob.UncompressedSize);
        Assert.True(blob.Size > 0);
        Assert.Empty(ReadLayer(Path.Combine(_dir, "blobs"), blob));
        Assert.Equal(0, blob.Entries);
    }

    /// <summary>A real overlayfs upper dir: a deleted lower file (whiteout) and a replaced lower dir (opaque).</summary>
    private async Task<string> MakeUpperWithDeletionsAsync()
    {
        var lower = Directory.CreateDirectory(Path.Combine(_dir, "lower")).FullName;
        var upper = Directory.CreateDirectory(Path.Combine(_dir, "upper")).FullName;
        var work = Directory.CreateDirectory(Path.Combine(_dir, "work")).FullName;
        var merged = Directory.CreateDirectory(Path.Combine(_dir, "merged")).FullName;
        File.WriteAllText(Path.Combine(lower, "gone"), "deleted in the upper layer");
        File.WriteAllText(Path.Combine(lower, "kept"), "untouched");
        Directory.CreateDirectory(Path.Combine(lower, "dir"));
        File.WriteAllText(Path.Combine(lower, "dir", "old"), "hidden by the opaque dir");

        (await ProcessRunner.RunAsync("mount", ["-t", "overlay", "overlay", "-o", $"lowerdir={lower},upperdir={upper},workdir={work}", merged]))
            .EnsureSuccess("mounting the test overlay");
        try
        {
            File.Delete(Path.Combine(merged, "gone"));
            Directory.Delete(Path.Combine(merged, "dir"), recursive: true);
            Directory.CreateDirectory(Path.Combine(merged, "dir"));
            File.WriteAllText(Path.Combine(merged, "dir", "fresh"), "new content");
        }
        finally
        {
            (await ProcessRunner.RunAsync("umount", [merged])).EnsureSuccess("unmounting the test overlay");
        }

        return upper;
    }

    private static void AddEveryKindOfInode(string root)
    {
        var data = Path.Combine(root, "data");
        File.WriteAllText(data, "payload");
        File.SetUnixFileMode(data, (UnixFileMode)0x1E4);
        UnixFile.ChangeOwner(data, 1234, 5678);
        Assert.Equal(0, Xattrs.Set(data, "user.hellobench", "hello"u8));
        File.SetLastWriteTimeUtc(data, DateTime.UtcNow.AddYears(1));
        var old = Path.Combine(root, "old");
        File.WriteAllText(old, "from 2001");
        File.SetLastWriteTimeUtc(old, DateTimeOffset.FromUnixTimeSeconds(1_000_000_000).UtcDateTime);
        Assert.True(UnixFile.TryHardLink(data, Path.Combine(root, "data-link")));
        File.CreateSymbolicLink(Path.Combine(root, "symlink"), "data");
        UnixFile.MakeCharDevice(Path.Combine(root, "null"), 1, 3, 0x1B6);
        var fifo = ProcessRunner.RunAsync("mkfifo", [Path.Combine(root, "fifo")]).GetAwaiter().GetResult();
        fifo.EnsureSuccess("mkfifo");
        var sub = Directory.CreateDirectory(Path.Combine(root, "sub")).FullName;
        File.SetUnixFileMode(sub, (UnixFileMode)0x3FF);
    }

    private static byte[] Gunzip(string blobStore, LayerBlob blob)
    {
        using var file = File.OpenRead(Path.Combine(blobStore, "sha256", blob.Digest.Hex));
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var tar = new MemoryStream();
        gzip.CopyTo(tar);
        return tar.ToArray();
    }

    private static List<PaxTarEntry> ReadLayer(string blobStore, LayerBlob blob)
    {
        using var file = File.OpenRead(Path.Combine(blobStore, "sha256", blob.Digest.Hex));
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var reader = new TarReader(gzip);
        var entries = new List<PaxTarEntry>();
        while (reader.GetNextEntry() is { } entry)
        {
            entries.Add(Assert.IsType<PaxTarEntry>(entry));
        }

        return entries;
    }
}
