using Slacker.Images.Layers;

namespace Slacker.Images.Tests.Support;

public static class Apply
{
    /// <summary>Applies layers in order, as an import does, with the given limits.</summary>
    public static LayerApplier Layers(string root, LayerLimits? limits, params byte[][] layers)
    {
        limits ??= LayerLimits.Default;
        var applier = new LayerApplier(root, limits, new UncompressedBudget(limits.MaxUncompressedBytes));
        try
        {
            for (var i = 0; i < layers.Length; i++)
            {
                applier.Apply(new MemoryStream(layers[i]), $"layer{i}");
            }

            applier.Finish();
            return applier;
        }
        catch
        {
            applier.Dispose();
            throw;
        }
    }

    public static void Layers(string root, params byte[][] layers) => Layers(root, null, layers).Dispose();
}
