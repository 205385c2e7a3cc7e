using System.Runtime.CompilerServices;
using System.Text;
using Slacker.Core.Model;

namespace Slacker.Core.Tests;

public sealed class DigestTests
{
    [Fact]
    public void Digest_is_32_bytes_inline() => Assert.Equal(32, Unsafe.SizeOf<Digest>());

    [Fact]
    public void Known_vector_round_trips_through_text()
    {
        var digest = Digest.Compute(Encoding.ASCII.GetBytes("abc"));
        Assert.Equal("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", digest.ToString());
        Assert.Equal(digest, Digest.Parse(digest.ToString()));
        Assert.True(digest.Matches(Encoding.ASCII.GetBytes("abc")));
        Assert.False(digest.Matches(Encoding.ASCII.GetBytes("abd")));
    }

    [Theory]
    [InlineData("")]
    [InlineData("sha256:")]
    [InlineData("sha512:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")]
    [InlineData("sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD")]
    [InlineData("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a")]
    [InlineData("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ag")]
    [InlineData("sha256:../../etc/passwd")]
    public void Malformed_digests_are_rejected(string text) => Assert.False(Digest.TryParse(text, out _));

    [Fact]
    public void Zero_is_the_default() => Assert.True(default(Digest).IsZero);
}
