namespace Slacker.Bench.Corpus;

/// <summary>A corpus file that cannot be used; the message names the file, the entry and the field.</summary>
public sealed class CorpusException : Exception
{
    public CorpusException(string message)
        : base(message)
    {
    }

    public CorpusException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
