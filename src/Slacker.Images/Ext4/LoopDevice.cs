namespace Slacker.Images.Ext4;

/// <summary>A loop device attached to an image file by us; disposing detaches it.</summary>
public sealed class LoopDevice : IAsyncDisposable
{
    private LoopDevice(string device, string backingFile)
    {
        Device = device;
        BackingFile = backingFile;
    }

    public string Device { get; }

    public string BackingFile { get; }

    public static async Task<LoopDevice> AttachAsync(string file, bool readOnly, CancellationToken cancellationToken = default)
    {
        var arguments = new List<string> { "-f", "--show" };
        if (readOnly)
        {
            arguments.Add("-r");
        }

        arguments.Add(file);
        var device = (await ExternalTool.RunAsync("losetup", arguments, cancellationToken: cancellationToken).ConfigureAwait(false)).Trim();
        if (!device.StartsWith("/dev/loop", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"losetup attached {file} but printed '{device}' instead of a /dev/loopN device.");
        }

        return new LoopDevice(device, file);
    }

    public async ValueTask DisposeAsync()
    {
        // Detach by the device we attached, never by file name: another attachment of the same file is not ours.
        await ExternalTool.RunAsync("losetup", ["-d", Device]).ConfigureAwait(false);
    }
}
