using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Slacker.Node.Containers;

/// <summary>
/// The node's containers: create (image -> clone -> attach -> bundle), start, stop, kill, remove, and the
/// recovery that makes a restarted node tell the truth about containers that ran while it was down.
/// </summary>
public sealed class ContainerManager : IAsyncDisposable
{
    private readonly ContainerStore _store;
    private readonly IContainerRootProvider _roots;
    private readonly string _defaultRuntime;
    private readonly string _runtimeStateRoot;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, Entry> _containers = new(StringComparer.Ordinal);
    private readonly Lock _namesGate = new();

    private sealed class Entry(ContainerRecord record)
    {
        public ContainerRecord Record { get; } = record;

        public SemaphoreSlim Gate { get; } = new(1, 1);

        public ContainerProcess? Process { get; set; }

        /// <summary>Completes when the current run ended and its exit code was written; the root may still be detaching.</summary>
        public TaskCompletionSource Exited { get; set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Completes when the current run ended and everything it held (runtime state, root) was released.</summary>
        public TaskCompletionSource Finished { get; set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Completes once the container was removed (docker's wait condition "removed").</summary>
        public TaskCompletionSource Removed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>The clients attached to the next or current run; replaced when a run starts after one ended.</summary>
        public AttachHub Hub { get; set; } = new();
    }

    public ContainerManager(ContainerStore store, IContainerRootProvider roots, string defaultRuntime, string runtimeStateRoot, ILogger logger)
    {
        _store = store;
        _roots = roots;
        _defaultRuntime = defaultRuntime;
        _runtimeStateRoot = runtimeStateRoot;
        _logger = logger;
    }

    public ContainerStore Store => _store;

    public OciRuntime LocateRuntime(string? nameOrPath)
    {
        var name = string.IsNullOrEmpty(nameOrPath) ? _defaultRuntime : nameOrPath;
        return OciRuntime.Locate(name, Path.Join(_runtimeStateRoot, Path.GetFileName(name)));
    }

    /// <summary>
    /// Loads every container's state. A container that was running when the node went away lost its root (the
    /// FUSE server was this process), so it is ended now; its exit code comes from the monitor's file when the
    /// container ended by itself. Then the stale mounts go.
    /// </summary>
    public async Task RecoverAsync(CancellationToken cancellationToken)
    {
        foreach (var record in _store.LoadAll())
        {
            if (record.Status == ContainerStatus.Running)
            {
                await RecoverRunningAsync(record, cancellationToken);
            }

            record.RootFs = null;
            record.Pid = null;
            _store.Save(record);
            var entry = new Entry(record);
            entry.Exited.TrySetResult();
            entry.Finished.TrySetResult();
            _containers[record.Id] = entry;
        }

        await _roots.CleanupStaleAsync(cancellationToken);

        foreach (var entry in _containers.Values.Where(e => e.Record.Config.AutoRemove && e.Record.Status == ContainerStatus.Exited).ToList())
        {
            await RemoveAsync(entry.Record.Id, force: true, cancellationToken);
        }
    }

    private async Task RecoverRunningAsync(ContainerRecord record, CancellationToken cancellationToken)
    {
        var exitCode = _store.ReadExitCode(record.Id);
        OciRuntime? runtime = null;
        try
        {
            runtime = LocateRuntime(record.Runtime);
        }
        catch (ContainerException e)
        {
            _logger.LogWarning("Container {Id}: {Message}", record.ShortId, e.Message);
        }

        if (exitCode is null && runtime is not null && await runtime.StatusAsync(record.Id, cancellationToken) is "running" or "created" or "paused")
        {
            _logger.LogWarning("Container {Id} ({Name}) outlived the previous node; its root is gone, killing it.", record.ShortId, record.Name);
            await runtime.KillAsync(record.Id, "KILL", cancellationToken);
            for (var i = 0; i < 100 && exitCode is null; i++)
            {
                await Task.Delay(50, cancellationToken);
                exitCode = _store.ReadExitCode(record.Id);
            }

            record.Error = "The node stopped while the container ran; its lazily attached root was lost, so the restarted node killed it.";
        }
        else if (exitCode is null)
        {
            record.Error = "The container ended while the node was down and left no exit code.";
        }

        if (runtime is not null)
        {
            await runtime.DeleteAsync(record.Id, cancellationToken);
        }

        var exitFile = new FileInfo(_store.ExitFileOf(record.Id));
        record.Status = ContainerStatus.Exited;
        record.ExitCode = exitCode;
        record.FinishedAt = exitFile.Exists ? exitFile.LastWriteTimeUtc : DateTimeOffset.UtcNow;
    }

    public IReadOnlyList<ContainerRecord> List(bool all) =>
        [.. _containers.Values.Select(e => e.Record)
            .Where(r => all || r.Status == ContainerStatus.Running)
            .OrderByDescending(r => r.CreatedAt)];

    /// <summary>Finds a container by full id, name, or unique id prefix (docker's rules).</summary>
    public ContainerRecord Get(string idOrName) => Find(idOrName).Record;

    private Entry Find(string idOrName)
    {
        if (_containers.TryGetValue(idOrName, out var byId))
        {
            return byId;
        }

        var byName = _containers.Values.FirstOrDefault(e => e.Record.Name == idOrName);
        if (byName is not null)
        {
            return byName;
        }

        var byPrefix = idOrName.Length >= 3 ? _containers.Values.Where(e => e.Record.Id.StartsWith(idOrName, StringComparison.Ordinal)).ToList() : [];
        return byPrefix.Count switch
        {
            1 => byPrefix[0],
            0 => throw new ContainerException(ContainerErrors.ContainerUnknown,
                $"No such container: '{idOrName}'. 'slacker ps -a' lists the containers on this node."),
            _ => throw new ContainerException(ContainerErrors.BadRequest,
                $"'{idOrName}' matches {byPrefix.Count} containers; give more of the id."),
        };
    }

    public async Task<ContainerRecord> CreateAsync(ContainerConfig config, CancellationToken cancellationToken)
    {
        if (!NetworkModes.IsValid(config.Network))
        {
            throw new ContainerException(ContainerErrors.BadRequest,
                $"Network mode '{config.Network}' is not supported; use 'none' (loopback only, the default) or 'host'.");
        }

        foreach (var bind in config.Binds ?? [])
        {
            BindMount.Parse(bind);
        }

        var runtime = LocateRuntime(config.Runtime);
        var id = ContainerStore.NewId();
        string name;
        lock (_namesGate)
        {
            name = config.Name ?? UniqueGeneratedName();
            if (!ContainerNames.IsValid(name))
            {
                throw new ContainerException(ContainerErrors.BadRequest,
                    $"Container name '{name}' is invalid: use letters, digits, '_', '.', '-', starting with a letter or digit.");
            }

            if (_containers.Values.Any(e => e.Record.Name == name))
            {
                throw new ContainerException(ContainerErrors.NameInUse,
                    $"The name '{name}' is already used by a container; remove it ('slacker rm {name}') or choose another name.");
            }

            var record = new ContainerRecord
            {
                Id = id,
                Name = name,
                Config = config,
                Runtime = runtime.BinaryPath,
                CreatedAt = DateTimeOffset.UtcNow,
            };
            var reserved = new Entry(record);
            reserved.Exited.TrySetResult();
            reserved.Finished.TrySetResult();
            _containers[id] = reserved;
        }

        var entry = _containers[id];
        try
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            _store.Create(entry.Record);
            var image = await _roots.PrepareAsync(entry.Record, cancellationToken);
            await File.WriteAllBytesAsync(Path.Join(_store.DirectoryOf(id), "image-config.json"),
                System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(image, ContainerJsonContext.Default.ImageRunConfig), cancellationToken);
            var prepared = clock.Elapsed;
            var attached = await AttachAndBuildAsync(entry.Record, image, cancellationToken);
            _store.Save(entry.Record);
            _logger.LogDebug("Container {Id} created in {Total:0.0} ms: image and clone {Prepare:0.0} ms, root attached {Attach:0.0} ms, bundle {Bundle:0.0} ms.",
                entry.Record.ShortId, clock.Elapsed.TotalMilliseconds, prepared.TotalMilliseconds, attached.TotalMilliseconds,
                (clock.Elapsed - prepared - attached).TotalMilliseconds);
            return entry.Record;
        }
        catch
        {
            // A container that could not be created leaves nothing behind: no state, no mount, no clone.
            _containers.TryRemove(id, out _);
            await RemoveResourcesAsync(entry.Record, CancellationToken.None);
            throw;
        }
    }

    private string UniqueGeneratedName()
    {
        for (var attempt = 0; ; attempt++)
        {
            var name = attempt < 20 ? ContainerNames.Generate() : $"{ContainerNames.Generate()}_{attempt}";
            if (!_containers.Values.Any(e => e.Record.Name == name))
            {
                return name;
            }
        }
    }

    /// <returns>How long attaching the root took (the rest is the bundle).</returns>
    private async Task<TimeSpan> AttachAndBuildAsync(ContainerRecord record, ImageRunConfig image, CancellationToken cancellationToken)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        record.RootFs = await _roots.AttachAsync(record, cancellationToken);
        var attached = clock.Elapsed;
        _store.Save(record);
        var hostname = record.Config.Network == NetworkModes.Host ? System.Environment.MachineName : record.ShortId;
        var bundle = _store.BundleOf(record.Id);
        var spec = BundleBuilder.Build(record.Config, image, record.RootFs, bundle, hostname);
        BundleBuilder.Write(spec, bundle);
        record.Args = spec.Process.Args;
        return attached;
    }

    private ImageRunConfig LoadImageConfig(string id)
    {
        var path = Path.Join(_store.DirectoryOf(id), "image-config.json");
        return System.Text.Json.JsonSerializer.Deserialize(File.ReadAllBytes(path), ContainerJsonContext.Default.ImageRunConfig)
            ?? ImageRunConfig.Empty;
    }

    public async Task StartAsync(string idOrName, CancellationToken cancellationToken)
    {
        var entry = Find(idOrName);
        await entry.Gate.WaitAsync(cancellationToken);
        try
        {
            var record = entry.Record;
            if (record.Status == ContainerStatus.Running)
            {
                throw new ContainerException(ContainerErrors.Conflict, $"Container '{record.Name}' is already running.");
            }

            if (record.RootFs is null)
            {
                await AttachAndBuildAsync(record, LoadImageConfig(record.Id), cancellationToken);
            }

            var clock = System.Diagnostics.Stopwatch.StartNew();
            var runtime = LocateRuntime(record.Runtime);
            await runtime.DeleteAsync(record.Id, cancellationToken);
            if (entry.Hub.IsCompleted)
            {
                entry.Hub = new AttachHub();
            }

            // A new run: whoever waits from now on waits for this run's end.
            var (exited, finished) = (new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            var (previousExited, previousFinished) = (entry.Exited, entry.Finished);
            (entry.Exited, entry.Finished) = (exited, finished);
            ContainerProcess process;
            try
            {
                process = await ContainerProcess.StartAsync(runtime, _store, record, entry.Hub, cancellationToken);
            }
            catch
            {
                (entry.Exited, entry.Finished) = (previousExited, previousFinished);
                exited.TrySetResult();
                finished.TrySetResult();
                throw;
            }

            entry.Process = process;
            record.Status = ContainerStatus.Running;
            record.StartedAt = DateTimeOffset.UtcNow;
            record.FinishedAt = null;
            record.ExitCode = null;
            record.Error = null;
            record.Pid = process.Pid;
            _store.Save(record);
            _logger.LogDebug("Container {Id} started in {Elapsed:0.0} ms (pid {Pid}).", record.ShortId, clock.Elapsed.TotalMilliseconds, process.Pid);
            _ = Task.Run(() => OnExitedAsync(entry, process, runtime), CancellationToken.None);
        }
        finally
        {
            entry.Gate.Release();
        }
    }

    private async Task OnExitedAsync(Entry entry, ContainerProcess process, OciRuntime runtime)
    {
        var record = entry.Record;
        try
        {
            var exitCode = await process.Exited;
            await entry.Gate.WaitAsync();
            try
            {
                record.Status = ContainerStatus.Exited;
                record.ExitCode = exitCode;
                record.FinishedAt = DateTimeOffset.UtcNow;
                record.Pid = null;
                _store.Save(record);

                // The exit is known and durable: `run` and `wait` return now, as docker's do, while the runtime
                // state and the root (ext4, loop, FUSE) are released behind them under the gate, which a new
                // start or a removal waits for.
                entry.Exited.TrySetResult();
                var clock = System.Diagnostics.Stopwatch.StartNew();
                await runtime.DeleteAsync(record.Id);
                await _roots.DetachAsync(record, CancellationToken.None);
                _logger.LogDebug("Container {Id} exited with {Code}; runtime state and root released in {Elapsed:0.0} ms.", record.ShortId, exitCode, clock.Elapsed.TotalMilliseconds);
                record.RootFs = null;
                _store.Save(record);
            }
            finally
            {
                entry.Gate.Release();
            }

            await process.DisposeAsync();
        }
        catch (Exception e)
        {
            _logger.LogError(e, "Container {Id}: cleaning up after its exit failed.", record.ShortId);
            record.Error = $"Cleanup after exit failed: {e.Message}";
            _store.Save(record);
        }
        finally
        {
            entry.Process = null;
            entry.Exited.TrySetResult();
            entry.Finished.TrySetResult();
        }

        if (record.Config.AutoRemove)
        {
            try
            {
                await RemoveAsync(record.Id, force: true, CancellationToken.None);
            }
            catch (Exception e)
            {
                // Waiters must not hang on a removal that failed; the container stays listed with the reason.
                _logger.LogError(e, "Container {Id}: automatic removal failed.", record.ShortId);
                record.Error = $"Automatic removal failed: {e.Message}";
                entry.Removed.TrySetResult();
            }
        }
    }

    /// <summary>
    /// The container once whatever its last run held is released: `run` returns at the exit, while the root is
    /// still being detached behind it, and a commit of the exited container must not race that detach.
    /// </summary>
    public async Task<ContainerRecord> GetSettledAsync(string idOrName, CancellationToken cancellationToken)
    {
        var entry = Find(idOrName);
        if (entry.Record.Status != ContainerStatus.Running)
        {
            await entry.Finished.Task.WaitAsync(cancellationToken);
        }

        return entry.Record;
    }

    /// <summary>
    /// Waits until the container's run ended (and, for --rm containers, until it was removed) and returns its
    /// final record; ExitCode is null when the code could not be known.
    /// </summary>
    public Task<ContainerRecord> WaitAsync(string idOrName, CancellationToken cancellationToken) =>
        WaitAsync(Find(idOrName), cancellationToken);

    private static async Task<ContainerRecord> WaitAsync(Entry entry, CancellationToken cancellationToken)
    {
        await entry.Exited.Task.WaitAsync(cancellationToken);
        if (entry.Record.Config.AutoRemove && entry.Record.Status == ContainerStatus.Exited)
        {
            await entry.Removed.Task.WaitAsync(cancellationToken);
        }

        return entry.Record;
    }

    /// <summary>
    /// Connects a client to the container's stdio for its current run, or for its next run when it was not
    /// started yet (attach before start, so that no output is missed).
    /// </summary>
    public ContainerAttachment Attach(string idOrName)
    {
        var entry = Find(idOrName);
        var hub = entry.Hub;
        return new ContainerAttachment(entry.Record, hub, hub.Subscribe(), () => entry.Process, ct => WaitAsync(entry, ct));
    }

    public async Task StopAsync(string idOrName, TimeSpan grace, CancellationToken cancellationToken)
    {
        var entry = Find(idOrName);
        if (entry.Record.Status != ContainerStatus.Running)
        {
            return;
        }

        var runtime = LocateRuntime(entry.Record.Runtime);
        var finished = entry.Finished.Task;
        await runtime.KillAsync(entry.Record.Id, "TERM", cancellationToken);
        if (await Task.WhenAny(finished, Task.Delay(grace, cancellationToken)) != finished)
        {
            // PID 1 of a pid namespace ignores SIGTERM unless it installed a handler; docker kills it too.
            await runtime.KillAsync(entry.Record.Id, "KILL", cancellationToken);
        }

        await finished.WaitAsync(cancellationToken);
    }

    public async Task KillAsync(string idOrName, string signal, CancellationToken cancellationToken)
    {
        var entry = Find(idOrName);
        if (entry.Record.Status != ContainerStatus.Running)
        {
            throw new ContainerException(ContainerErrors.Conflict, $"Container '{entry.Record.Name}' is not running.");
        }

        var normalized = signal.StartsWith("SIG", StringComparison.OrdinalIgnoreCase) ? signal[3..] : signal;
        if (normalized.Length == 0 || !normalized.All(char.IsAsciiLetterOrDigit))
        {
            throw new ContainerException(ContainerErrors.BadRequest, $"'{signal}' is not a signal; use a name (TERM, KILL, HUP) or a number.");
        }

        var runtime = LocateRuntime(entry.Record.Runtime);
        if (!await runtime.KillAsync(entry.Record.Id, normalized.ToUpperInvariant(), cancellationToken)
            && entry.Record.Status == ContainerStatus.Running)
        {
            throw new ContainerException(ContainerErrors.BadRequest, $"The runtime could not send signal '{signal}' to '{entry.Record.Name}'.");
        }
    }

    public async Task RemoveAsync(string idOrName, bool force, CancellationToken cancellationToken)
    {
        var entry = Find(idOrName);
        if (entry.Record.Status == ContainerStatus.Running)
        {
            if (!force)
            {
                throw new ContainerException(ContainerErrors.Conflict,
                    $"Container '{entry.Record.Name}' is running; stop it first ('slacker stop {entry.Record.Name}') or use 'rm -f'.");
            }

            await LocateRuntime(entry.Record.Runtime).KillAsync(entry.Record.Id, "KILL", cancellationToken);
        }

        await entry.Finished.Task.WaitAsync(cancellationToken);
        await entry.Gate.WaitAsync(cancellationToken);
        try
        {
            if (!_containers.TryRemove(entry.Record.Id, out _))
            {
                return;
            }

            await RemoveResourcesAsync(entry.Record, cancellationToken);
            entry.Removed.TrySetResult();
        }
        finally
        {
            entry.Gate.Release();
        }
    }

    private async Task RemoveResourcesAsync(ContainerRecord record, CancellationToken cancellationToken)
    {
        try
        {
            await _roots.RemoveAsync(record, cancellationToken);
        }
        finally
        {
            _store.Delete(record.Id);
        }
    }

    /// <summary>Node shutdown: the containers cannot outlive the process that serves their roots, so stop them all.</summary>
    public async ValueTask DisposeAsync()
    {
        var running = _containers.Values.Where(e => e.Record.Status == ContainerStatus.Running).ToList();
        await Task.WhenAll(running.Select(async e =>
        {
            try
            {
                await StopAsync(e.Record.Id, TimeSpan.FromSeconds(5), CancellationToken.None);
            }
            catch (Exception ex)
            {
                _logger.LogWarning(ex, "Stopping container {Id} at shutdown failed.", e.Record.ShortId);
            }
        }));
    }
}
