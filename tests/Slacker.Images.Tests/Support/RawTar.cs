using System.Text;

namespace Slacker.Images.Tests.Support;

/// <summary>Hand-made tar blocks, for headers that no well-behaved writer would produce.</summary>
public static class RawTar
{
    /// <summary>A ustar header block; <paramref name="size"/> is written in GNU base-256 so it can be absurd.</summary>
    public static byte[] Header(string name, long size, char type = '0')
    {
        var h = new byte[512];
        Encoding.ASCII.GetBytes(name).CopyTo(h, 0);
        Encoding.ASCII.GetBytes("0000644\0").CopyTo(h, 100);
        Encoding.ASCII.GetBytes("0000000\0").CopyTo(h, 108);
        Encoding.ASCII.GetBytes("0000000\0").CopyTo(h, 116);
        h[124] = 0x80;
        for (var i = 0; i < 8; i++)
        {
            h[135 - i] = (byte)(size >> (8 * i));
        }

        Encoding.ASCII.GetBytes("14600000000\0").CopyTo(h, 136);
        h[156] = (byte)type;
        Encoding.ASCII.GetBytes("ustar\0").CopyTo(h, 257);
        Encoding.ASCII.GetBytes("00").CopyTo(h, 263);
        for (var i = 148; i < 156; i++)
        {
            h[i] = (byte)' ';
        }

        var sum = h.Sum(b => (int)b);
        Encoding.ASCII.GetBytes(Convert.ToString(sum, 8).PadLeft(6, '0') + "\0 ").CopyTo(h, 148);
        return h;
    }

    public static byte[] EndMarker => new byte[1024];

    /// <summary>Replaces the bytes of <paramref name="placeholder"/> in a tar with <paramref name="value"/> of the same length (PAX data is not checksummed).</summary>
    public static byte[] Patch(byte[] tar, byte[] placeholder, byte[] value)
    {
        var at = tar.AsSpan().IndexOf(placeholder);
        if (at < 0 || placeholder.Length != value.Length)
        {
            throw new ArgumentException("placeholder not found or length differs");
        }

        var copy = (byte[])tar.Clone();
        value.CopyTo(copy, at);
        return copy;
    }
}
