using System.Security.Cryptography;

namespace Slacker.Node.Tests.Infrastructure;

/// <summary>Builds real ext4 images with mkfs.ext4 -d from a directory of random files.</summary>
internal static class Ext4Image
{
    /// <summary>Writes <paramref name="files"/> random files (sizes vary up to <paramref name="maxFileBytes"/>) and returns name -> SHA-256.</summary>
    public static Dictionary<string, string> WriteRandomTree(string directory, int files, int maxFileBytes, int seed)
    {
        var random = new Random(seed);
        var hashes = new Dictionary<string, string>();
        for (var i = 0; i < files; i++)
        {
            var relative = Path.Combine($"d{i % 5}", $"file{i}.bin");
            var path = Path.Combine(directory, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var size = i == 0 ? maxFileBytes : random.Next(1, maxFileBytes);
            var data = new byte[size];
            random.NextBytes(data);
            File.WriteAllBytes(path, data);
            hashes[relative] = Convert.ToHexStringLower(SHA256.HashData(data));
        }

        return hashes;
    }

    public static void Build(string imagePath, long sizeBytes, string sourceDirectory)
    {
        Tool.Run("mkfs.ext4", "-q", "-F", "-b", "4096", "-d", sourceDirectory, imagePath, (sizeBytes / 1024).ToString(System.Globalization.CultureInfo.InvariantCulture) + "k");
    }

    public static string HashFile(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>The file-system block that holds byte <paramref name="offset"/> of <paramref name="file"/> (debugfs bmap).</summary>
    public static long PhysicalBlock(string imagePath, string file, long offset)
    {
        var output = Tool.Run("debugfs", "-R", $"bmap /{file} {offset / 4096}", imagePath);
        return long.Parse(output.Trim().Split('\n')[^1].Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
