namespace Slacker.Node.Cache;

/// <summary>A pinned buffer whose span starts on a 4 KiB boundary, as O_DIRECT reads and writes require.</summary>
internal sealed class AlignedBuffer
{
    public const int Alignment = 4096;

    private readonly byte[] _array;
    private readonly int _origin;

    public unsafe AlignedBuffer(int length)
    {
        Length = length;
        _array = GC.AllocateUninitializedArray<byte>(length + Alignment, pinned: true);
        fixed (byte* p = _array)
        {
            _origin = (int)((Alignment - ((nuint)p % Alignment)) % Alignment);
        }
    }

    public int Length { get; }

    public Span<byte> Span => _array.AsSpan(_origin, Length);
}
