using System.Security.Cryptography;
using System.Text.Json;

namespace Slacker.Node.Containers;

/// <summary>
/// The containers' directories under the node data dir: containers/&lt;id&gt;/ holds state.json, the runtime
/// bundle, the output log and the exit-code file that the monitor writes.
/// </summary>
public sealed class ContainerStore
{
    private static long s_tempCounter;

    public string Root { get; }

    public ContainerStore(string dataDir)
    {
        Root = Path.Join(dataDir, "containers");
        Directory.CreateDirectory(Root);
    }

    public static string NewId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    public string DirectoryOf(string id) => Path.Join(Root, id);

    public string BundleOf(string id) => Path.Join(Root, id, "bundle");

    public string LogOf(string id) => Path.Join(Root, id, "container.log");

    public string ExitFileOf(string id) => Path.Join(Root, id, "exit-code");

    public string PidFileOf(string id) => Path.Join(Root, id, "pid");

    /// <summary>A unix socket path must fit in 108 bytes, which a deep data dir would exceed; it lives a moment only.</summary>
    public static string ConsoleSocketOf(string id) => Path.Join(Path.GetTempPath(), $"slacker-console-{id[..16]}.sock");

    public void Create(ContainerRecord record)
    {
        Directory.CreateDirectory(BundleOf(record.Id));
        Save(record);
    }

    /// <summary>
    /// Writes the state atomically (temp file + rename), so a crash leaves the old or the new state. Each write has
    /// its own temp name: a container's exit watcher and a recovering manager may save the same record at once, and
    /// with one shared name the slower rename found its file already moved away.
    /// </summary>
    public void Save(ContainerRecord record)
    {
        var path = Path.Join(DirectoryOf(record.Id), "state.json");
        var temp = $"{path}.{Environment.ProcessId}.{Interlocked.Increment(ref s_tempCounter)}.tmp";
        using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write))
        {
            JsonSerializer.Serialize(file, record, ContainerJsonContext.Default.ContainerRecord);
            file.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
    }

    public IEnumerable<ContainerRecord> LoadAll()
    {
        foreach (var dir in Directory.EnumerateDirectories(Root))
        {
            var path = Path.Join(dir, "state.json");
            ContainerRecord? record = null;
            try
            {
                record = File.Exists(path)
                    ? JsonSerializer.Deserialize(File.ReadAllBytes(path), ContainerJsonContext.Default.ContainerRecord)
                    : null;
            }
            catch (JsonException)
            {
                // A state file cut short by a crash before its first complete write: the container never started.
            }

            if (record is not null)
            {
                yield return record;
            }
        }
    }

    /// <summary>The exit code the monitor recorded, if the container ended.</summary>
    public int? ReadExitCode(string id)
    {
        var path = ExitFileOf(id);
        return File.Exists(path) && int.TryParse(File.ReadAllText(path).Trim(), out var code) ? code : null;
    }

    public void Delete(string id)
    {
        var dir = DirectoryOf(id);
        if (Directory.Exists(dir))
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
