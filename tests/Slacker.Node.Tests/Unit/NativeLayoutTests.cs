using System.Runtime.CompilerServices;
using Slacker.Native;

namespace Slacker.Node.Tests.Unit;

public sealed class NativeLayoutTests
{
    [Fact]
    public void Loop_structs_match_linux_loop_h()
    {
        Assert.Equal(232, Unsafe.SizeOf<Libc.LoopInfo64>());
        Assert.Equal(304, Unsafe.SizeOf<Libc.LoopConfig>());
    }

    [Theory]
    [InlineData("../etc")]
    [InlineData("a/b")]
    [InlineData(".hidden")]
    [InlineData("")]
    public void Volume_ids_that_are_not_plain_names_are_refused(string id) =>
        Assert.Throws<ArgumentException>(() => NodePaths.CheckId(id));
}
