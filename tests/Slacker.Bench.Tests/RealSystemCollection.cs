namespace Slacker.Bench.Tests;

/// <summary>Tests that drive real daemons and builds run one at a time: two cores, shared cache, shared dockerd.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RealSystemCollection
{
    public const string Name = "real systems";
}
