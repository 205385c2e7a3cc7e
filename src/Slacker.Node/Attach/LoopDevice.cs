using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using Slacker.Native;

namespace Slacker.Node.Attach;

/// <summary>
/// A loop device over a volume's FUSE file, set up in one LOOP_CONFIGURE call with direct I/O (so the image is
/// cached once, in ext4's page cache, not again in the FUSE file's) and a 4 KiB logical block size (which direct
/// I/O needs). AUTOCLEAR makes the kernel drop the device when its last user goes, so a crashed node leaves
/// nothing bound once its ext4 mount is gone. The device fd stays open while attached to keep it alive.
/// </summary>
public sealed class LoopDevice : IDisposable
{
    public const int BlockSize = 4096;

    private int _fd;

    private LoopDevice(int number, int fd, bool directIo)
    {
        Number = number;
        _fd = fd;
        DirectIo = directIo;
    }

    public int Number { get; }

    public string DevicePath => "/dev/loop" + Number.ToString(CultureInfo.InvariantCulture);

    /// <summary>Whether the kernel really does direct I/O (it silently falls back to buffered on misalignment).</summary>
    public bool DirectIo { get; }

    public static unsafe LoopDevice Attach(string backingFile, bool readOnly, bool requireDirectIo, ILogger logger)
    {
        var backing = Libc.Open(backingFile, (readOnly ? Libc.O_RDONLY : Libc.O_RDWR) | Libc.O_CLOEXEC);
        if (backing < 0)
        {
            throw new IOException($"Opening {backingFile} for the loop device failed: {Libc.ErrnoText(Libc.LastErrno)}.");
        }

        var control = -1;
        try
        {
            control = Libc.Open("/dev/loop-control", Libc.O_RDWR | Libc.O_CLOEXEC);
            if (control < 0)
            {
                throw new IOException($"Opening /dev/loop-control failed: {Libc.ErrnoText(Libc.LastErrno)}. Load the loop module and run as root.");
            }

            var config = new LoopConfig { Fd = (uint)backing, BlockSize = BlockSize };
            config.Info.Flags = LoopIoctl.FlagDirectIo | LoopIoctl.FlagAutoClear | (readOnly ? LoopIoctl.FlagReadOnly : 0);
            var name = Encoding.UTF8.GetBytes(backingFile);
            var nameLength = Math.Min(name.Length, LoopInfo64.NameSize - 1);
            for (var i = 0; i < nameLength; i++)
            {
                config.Info.FileName[i] = name[i];
            }

            // Another process can take the free device between GET_FREE and CONFIGURE (EBUSY): ask again.
            for (var attempt = 0; attempt < 20; attempt++)
            {
                var number = Libc.Ioctl(control, LoopIoctl.ControlGetFree, 0);
                if (number < 0)
                {
                    throw new IOException($"LOOP_CTL_GET_FREE failed: {Libc.ErrnoText(Libc.LastErrno)}.");
                }

                var fd = OpenDevice(number, readOnly);
                if (Libc.Ioctl(fd, LoopIoctl.Configure, &config) != 0)
                {
                    var errno = Libc.LastErrno;
                    Libc.Close(fd);
                    if (errno == Libc.EBUSY)
                    {
                        continue;
                    }

                    throw new IOException($"LOOP_CONFIGURE of /dev/loop{number} over {backingFile} failed: {Libc.ErrnoText(errno)}.");
                }

                var directIo = ReadDirectIo(number);
                var device = new LoopDevice(number, fd, directIo);
                if (!directIo)
                {
                    if (requireDirectIo)
                    {
                        device.Dispose();
                        throw new IOException($"/dev/loop{number} over {backingFile} fell back to buffered I/O (/sys/block/loop{number}/loop/dio is 0): the backing file does not support O_DIRECT at 4 KiB alignment. The image would be cached twice; refusing.");
                    }

                    logger.LogWarning("/dev/loop{Number} over {File} runs with buffered I/O: the image is cached twice.", number, backingFile);
                }

                return device;
            }

            throw new IOException("No free loop device after 20 attempts: other processes keep taking them. Retry.");
        }
        finally
        {
            // The loop device holds its own reference to the file.
            Libc.Close(backing);
            if (control >= 0)
            {
                Libc.Close(control);
            }
        }
    }

    /// <summary>Pushes anything the block layer still buffers down to the FUSE file (a no-op under direct I/O).</summary>
    public void FlushBuffers()
    {
        if (_fd >= 0 && Libc.Ioctl(_fd, LoopIoctl.BlockFlushBuffers, 0) != 0)
        {
            throw new IOException($"BLKFLSBUF on {DevicePath} failed: {Libc.ErrnoText(Libc.LastErrno)}.");
        }
    }

    /// <summary>Unbinds the device and waits (bounded) until the kernel has let go of the backing file.</summary>
    public void Detach(TimeSpan timeout)
    {
        var fd = Interlocked.Exchange(ref _fd, -1);
        if (fd < 0)
        {
            return;
        }

        // With our fd the only opener, CLR_FD marks the device for rundown and our close completes it.
        if (Libc.Ioctl(fd, LoopIoctl.ClearFd, 0) != 0 && Libc.LastErrno != Libc.ENXIO)
        {
            var errno = Libc.LastErrno;
            Libc.Close(fd);
            throw new IOException($"LOOP_CLR_FD on {DevicePath} failed: {Libc.ErrnoText(errno)}.");
        }

        Libc.Close(fd);
        WaitUnbound(Number, timeout);
    }

    public void Dispose() => Detach(TimeSpan.FromSeconds(10));

    /// <summary>The backing file of /dev/loopN, or null when unbound.</summary>
    public static string? BackingFile(int number)
    {
        try
        {
            var text = File.ReadAllText($"/sys/block/loop{number}/loop/backing_file").TrimEnd('\n');
            return text.Length == 0 ? null : text;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// Unbinds every loop device whose backing file lies under <paramref name="prefix"/> (left by a crashed node).
    /// Devices still mounted get AUTOCLEAR and go when their mount does. Touches no other device.
    /// </summary>
    public static int DetachStale(string prefix, ILogger logger)
    {
        var root = prefix.TrimEnd('/') + "/";
        var detached = 0;
        foreach (var number in BoundDevices())
        {
            var backing = BackingFile(number);
            if (backing is null || !backing.StartsWith(root, StringComparison.Ordinal))
            {
                continue;
            }

            var fd = Libc.Open($"/dev/loop{number}", Libc.O_RDONLY | Libc.O_CLOEXEC);
            if (fd < 0)
            {
                continue;
            }

            if (Libc.Ioctl(fd, LoopIoctl.ClearFd, 0) == 0)
            {
                detached++;
                logger.LogInformation("Detached stale /dev/loop{Number} ({Backing}).", number, backing);
            }

            Libc.Close(fd);
            WaitUnbound(number, TimeSpan.FromSeconds(5));
        }

        return detached;
    }

    /// <summary>Numbers of loop devices that have a backing file.</summary>
    public static IEnumerable<int> BoundDevices()
    {
        foreach (var dir in Directory.EnumerateDirectories("/sys/block", "loop*"))
        {
            if (int.TryParse(Path.GetFileName(dir).AsSpan(4), NumberStyles.None, CultureInfo.InvariantCulture, out var number)
                && File.Exists(Path.Combine(dir, "loop", "backing_file")))
            {
                yield return number;
            }
        }
    }

    private static bool ReadDirectIo(int number)
    {
        try
        {
            return File.ReadAllText($"/sys/block/loop{number}/loop/dio").Trim() == "1";
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static int OpenDevice(int number, bool readOnly)
    {
        var path = $"/dev/loop{number}";
        // The node for a freshly created device can lag behind LOOP_CTL_GET_FREE by a moment.
        for (var attempt = 0; ; attempt++)
        {
            var fd = Libc.Open(path, (readOnly ? Libc.O_RDONLY : Libc.O_RDWR) | Libc.O_CLOEXEC);
            if (fd >= 0)
            {
                return fd;
            }

            if (Libc.LastErrno != Libc.ENOENT || attempt == 50)
            {
                throw new IOException($"Opening {path} failed: {Libc.ErrnoText(Libc.LastErrno)}.");
            }

            Thread.Sleep(10);
        }
    }

    private static void WaitUnbound(int number, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (BackingFile(number) is not null)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new IOException($"/dev/loop{number} still has a backing file {timeout.TotalSeconds:0.#} s after LOOP_CLR_FD: something else holds it open.");
            }

            Thread.Sleep(10);
        }
    }
}
