using System.Globalization;
using System.Text;

namespace Slacker.Native;

/// <summary>
/// A loop device over a file, set up in one LOOP_CONFIGURE call: the node's lazy volumes (direct I/O over their
/// FUSE file) and the image builder's ext4 file (a plain buffered device, as losetup makes it) both attach
/// through here. AUTOCLEAR makes the kernel drop the device when its last user goes, so a crashed process leaves
/// nothing bound once its mount is gone. The device fd stays open while attached to keep it alive.
/// </summary>
public sealed class LoopDevice : IDisposable
{
    /// <summary>The logical block size of a direct-I/O device: direct I/O needs 4 KiB alignment.</summary>
    public const uint DirectIoBlockSize = 4096;

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

    /// <summary>
    /// Binds a free loop device to <paramref name="backingFile"/>. With <paramref name="directIo"/> the device asks
    /// for direct I/O (so the data is cached once, by the file system on top, not again in the backing file's page
    /// cache) with 4 KiB blocks; check <see cref="DirectIo"/> for what the kernel granted. Without it the device is
    /// buffered with the kernel's default 512-byte blocks.
    /// </summary>
    public static unsafe LoopDevice Attach(string backingFile, bool readOnly, bool directIo)
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

            var config = new Libc.LoopConfig { Fd = (uint)backing, BlockSize = directIo ? DirectIoBlockSize : 0 };
            config.Info.Flags = Libc.LO_FLAGS_AUTOCLEAR
                | (directIo ? Libc.LO_FLAGS_DIRECT_IO : 0)
                | (readOnly ? Libc.LO_FLAGS_READ_ONLY : 0);
            var name = Encoding.UTF8.GetBytes(backingFile);
            var nameLength = Math.Min(name.Length, Libc.LoopInfo64.NameSize - 1);
            for (var i = 0; i < nameLength; i++)
            {
                config.Info.FileName[i] = name[i];
            }

            // Another process can take the free device between GET_FREE and CONFIGURE (EBUSY): ask again.
            for (var attempt = 0; attempt < 20; attempt++)
            {
                var number = Libc.Ioctl(control, Libc.LOOP_CTL_GET_FREE, 0);
                if (number < 0)
                {
                    throw new IOException($"LOOP_CTL_GET_FREE failed: {Libc.ErrnoText(Libc.LastErrno)}.");
                }

                var fd = OpenDevice(number, readOnly);
                if (Libc.Ioctl(fd, Libc.LOOP_CONFIGURE, &config) != 0)
                {
                    var errno = Libc.LastErrno;
                    Libc.Close(fd);
                    if (errno == Libc.EBUSY)
                    {
                        continue;
                    }

                    throw new IOException($"LOOP_CONFIGURE of /dev/loop{number} over {backingFile} failed: {Libc.ErrnoText(errno)}.");
                }

                return new LoopDevice(number, fd, ReadDirectIo(number));
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

    /// <summary>Pushes anything the block layer still buffers down to the backing file (a no-op under direct I/O).</summary>
    public void FlushBuffers()
    {
        if (_fd >= 0 && Libc.Ioctl(_fd, Libc.BLKFLSBUF, 0) != 0)
        {
            throw new IOException($"BLKFLSBUF on {DevicePath} failed: {Libc.ErrnoText(Libc.LastErrno)}.");
        }
    }

    /// <summary>
    /// Unbinds the device and waits (bounded) until the kernel has let go of the backing file; throws when it has
    /// not by then (something else holds the device open).
    /// </summary>
    public void Detach(TimeSpan timeout) => Detach(timeout, throwIfHeld: true);

    /// <summary>
    /// Unbinds the device and waits up to 10 s for the kernel to let go of the backing file. Unlike
    /// <see cref="Detach(TimeSpan)"/> it does not throw when a user remains (a lazily unmounted file system, whose
    /// error is the one to report): AUTOCLEAR then drops the device when that user goes.
    /// </summary>
    public void Dispose() => Detach(TimeSpan.FromSeconds(10), throwIfHeld: false);

    private void Detach(TimeSpan timeout, bool throwIfHeld)
    {
        var fd = Interlocked.Exchange(ref _fd, -1);
        if (fd < 0)
        {
            return;
        }

        // With our fd the only opener, CLR_FD marks the device for rundown and our close completes it.
        if (Libc.Ioctl(fd, Libc.LOOP_CLR_FD, 0) != 0 && Libc.LastErrno != Libc.ENXIO)
        {
            var errno = Libc.LastErrno;
            Libc.Close(fd);
            throw new IOException($"LOOP_CLR_FD on {DevicePath} failed: {Libc.ErrnoText(errno)}.");
        }

        Libc.Close(fd);
        if (!WaitUnbound(Number, timeout) && throwIfHeld)
        {
            throw new IOException($"{DevicePath} still has a backing file {timeout.TotalSeconds:0.#} s after LOOP_CLR_FD: something else holds it open.");
        }
    }

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
    /// Unbinds every loop device whose backing file lies under <paramref name="prefix"/> (left by a crashed
    /// process) and returns those it unbound. Devices still mounted get AUTOCLEAR and go when their mount does.
    /// Touches no other device.
    /// </summary>
    public static IReadOnlyList<StaleLoopDevice> DetachStale(string prefix)
    {
        var root = prefix.TrimEnd('/') + "/";
        var detached = new List<StaleLoopDevice>();
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

            if (Libc.Ioctl(fd, Libc.LOOP_CLR_FD, 0) == 0)
            {
                detached.Add(new StaleLoopDevice(number, backing));
            }

            Libc.Close(fd);
            if (!WaitUnbound(number, TimeSpan.FromSeconds(5)))
            {
                throw new IOException($"/dev/loop{number} still has a backing file 5 s after LOOP_CLR_FD: something else holds it open.");
            }
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

    /// <summary>Waits until /dev/loopN has no backing file; false when it still has one after <paramref name="timeout"/>.</summary>
    private static bool WaitUnbound(int number, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (BackingFile(number) is not null)
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            Thread.Sleep(10);
        }

        return true;
    }
}

/// <summary>A loop device that <see cref="LoopDevice.DetachStale"/> unbound.</summary>
public sealed record StaleLoopDevice(int Number, string BackingFile);
