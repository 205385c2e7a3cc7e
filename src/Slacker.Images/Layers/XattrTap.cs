using System.Buffers.Text;
using System.Text;
using Slacker.Images.Sources;

namespace Slacker.Images.Layers;

/// <summary>
/// System.Formats.Tar decodes PAX values as UTF-8, which mangles binary extended attributes such as
/// security.capability. This pass-through stream follows the tar block structure alongside the TarReader and keeps
/// the raw bytes of every <c>SCHILY.xattr.*</c> record, keyed by the ordinal of the entry they belong to. The
/// reader cross-checks them against the decoded values before use, so a tap that lost track can only fall back
/// to the decoded strings, never attach bytes to the wrong file. Following the blocks also tells whether the
/// archive ended with its end-of-archive marker (see <see cref="EndedCleanly"/>). The counter it reads from stays
/// open: LayerReader drains it after the tar ends, to finish the diff_id.
/// </summary>
internal sealed class XattrTap(Stream inner) : ForwardReadStream(inner, leaveOpen: true)
{
    private const int Block = 512;
    private const int MaxPaxBytes = 1 << 20;

    private readonly byte[] _header = new byte[Block];
    private readonly Dictionary<int, Dictionary<string, byte[]>> _byOrdinal = [];
    private int _headerFill;
    private long _dataRemaining;
    private long _padRemaining;
    private MemoryStream? _capture;
    private Dictionary<string, byte[]>? _pendingRecords;
    private long? _pendingSize;
    private int _ordinal;
    private bool _lost;
    private long _bytes;

    /// <summary>Raw xattr records of the entry with this ordinal (1-based, counting what TarReader returns), if any.</summary>
    public Dictionary<string, byte[]>? TakeRawRecords(int ordinal)
    {
        if (_lost || !_byOrdinal.Remove(ordinal, out var records))
        {
            return null;
        }

        foreach (var stale in _byOrdinal.Keys.Where(k => k < ordinal).ToList())
        {
            _byOrdinal.Remove(stale);
        }

        return records;
    }

    /// <summary>
    /// False when the stream held tar data but ended without a zero end-of-archive block. Decompressors report a
    /// cut-short gzip stream as a normal end, so this is how a truncated layer is told from a complete one.
    /// </summary>
    public bool EndedCleanly => _lost || _bytes == 0 || SawEndMarker;

    private bool SawEndMarker { get; set; }

    public override int Read(Span<byte> buffer)
    {
        var n = Inner.Read(buffer);
        _bytes += n;
        if (!_lost)
        {
            try
            {
                Observe(buffer[..n]);
            }
            catch (Exception e) when (e is FormatException or OverflowException or ArgumentException)
            {
                _lost = true;
            }
        }

        return n;
    }

    private void Observe(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            if (_dataRemaining > 0)
            {
                var n = (int)Math.Min(_dataRemaining, data.Length);
                _capture?.Write(data[..n]);
                _dataRemaining -= n;
                data = data[n..];
                if (_dataRemaining == 0 && _capture is not null)
                {
                    ParsePax(_capture.ToArray());
                    _capture = null;
                }

                continue;
            }

            if (_padRemaining > 0)
            {
                var n = (int)Math.Min(_padRemaining, data.Length);
                _padRemaining -= n;
                data = data[n..];
                continue;
            }

            var take = Math.Min(Block - _headerFill, data.Length);
            data[..take].CopyTo(_header.AsSpan(_headerFill));
            _headerFill += take;
            data = data[take..];
            if (_headerFill == Block)
            {
                _headerFill = 0;
                OnHeader();
            }
        }
    }

    private void OnHeader()
    {
        if (!_header.AsSpan().ContainsAnyExcept((byte)0))
        {
            SawEndMarker = true;
            return;
        }

        SawEndMarker = false;

        var type = (char)_header[156];
        var size = ParseSize(_header.AsSpan(124, 12));
        switch (type)
        {
            case 'x':
                _capture = size <= MaxPaxBytes ? new MemoryStream((int)size) : null;
                if (_capture is null)
                {
                    _lost = true;
                }

                break;
            case 'L' or 'K':
                break;
            default:
                _ordinal++;
                if (_pendingRecords is { Count: > 0 } records && type != 'g')
                {
                    _byOrdinal[_ordinal] = records;
                }

                if (type != 'g' && _pendingSize is { } paxSize)
                {
                    size = paxSize;
                }

                if (type != 'g')
                {
                    _pendingRecords = null;
                    _pendingSize = null;
                }

                break;
        }

        _dataRemaining = size;
        _padRemaining = (Block - (size % Block)) % Block;
        if (size == 0 && _capture is not null)
        {
            ParsePax([]);
            _capture = null;
        }
    }

    private void ParsePax(byte[] data)
    {
        var records = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var span = data.AsSpan();
        while (!span.IsEmpty)
        {
            var space = span.IndexOf((byte)' ');
            if (space <= 0 || !Utf8Parser.TryParse(span[..space], out int length, out _) || length <= space || length > span.Length)
            {
                break;
            }

            var record = span[(space + 1)..length];
            span = span[length..];
            if (record.IsEmpty || record[^1] != (byte)'\n')
            {
                break;
            }

            record = record[..^1];
            var eq = record.IndexOf((byte)'=');
            if (eq <= 0)
            {
                continue;
            }

            var key = Encoding.UTF8.GetString(record[..eq]);
            var value = record[(eq + 1)..];
            if (key == "size" && Utf8Parser.TryParse(value, out long size, out _))
            {
                _pendingSize = size;
            }
            else if (key.StartsWith("SCHILY.xattr.", StringComparison.Ordinal))
            {
                records[key] = value.ToArray();
            }
        }

        _pendingRecords = records;
    }

    private static long ParseSize(ReadOnlySpan<byte> field)
    {
        if ((field[0] & 0x80) != 0)
        {
            // GNU base-256: big-endian two's complement in the remaining bits.
            long value = field[0] & 0x7f;
            foreach (var b in field[1..])
            {
                value = checked((value << 8) | b);
            }

            return value;
        }

        long octal = 0;
        foreach (var b in field)
        {
            if (b is (byte)' ' or 0)
            {
                if (octal != 0)
                {
                    break;
                }

                continue;
            }

            if (b is < (byte)'0' or > (byte)'7')
            {
                throw new FormatException("not an octal size");
            }

            octal = checked((octal * 8) + (b - '0'));
        }

        return octal;
    }
}
