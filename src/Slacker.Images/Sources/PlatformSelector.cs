using System.Runtime.InteropServices;
using Slacker.Images.Oci;

namespace Slacker.Images.Sources;

/// <summary>Chooses one manifest from an index, as docker does: the requested platform, by default this machine's.</summary>
public static class PlatformSelector
{
    public static string Current => "linux/" + CurrentArchitecture;

    /// <summary>This machine's architecture as OCI names it (GOARCH).</summary>
    public static string CurrentArchitecture => RuntimeInformation.OSArchitecture switch
    {
        Architecture.X64 => "amd64",
        Architecture.Arm64 => "arm64",
        Architecture.Arm => "arm",
        Architecture.X86 => "386",
        Architecture.S390x => "s390x",
        Architecture.Ppc64le => "ppc64le",
        Architecture.RiscV64 => "riscv64",
        var other => other.ToString().ToLowerInvariant(),
    };

    public static OciDescriptor Choose(OciIndex index, string? wanted, string where)
    {
        wanted ??= Current;
        var parts = wanted.Split('/');
        if (parts.Length is < 2 or > 3)
        {
            throw new ArgumentException($"Platform '{wanted}' is not of the form os/arch[/variant].");
        }

        var candidates = index.Manifests!
            .Where(m => ImageMediaTypes.IsManifestOrIndex(m.MediaType))
            .Where(m => m.Platform is null || (m.Platform.Os == parts[0] && m.Platform.Architecture == parts[1]
                && (parts.Length == 2 || m.Platform.Variant == parts[2])))
            .ToList();

        // An index without platform fields (e.g. one image in an OCI layout) is taken as it is.
        var exact = candidates.FirstOrDefault(m => m.Platform is not null) ?? candidates.FirstOrDefault();
        return exact ?? throw new ImageFormatException(
            $"{where} has no image for platform {wanted}; it offers: {string.Join(", ", index.Manifests!.Select(m => m.Platform?.ToString() ?? m.MediaType))}. Pass --platform to choose one.");
    }
}
