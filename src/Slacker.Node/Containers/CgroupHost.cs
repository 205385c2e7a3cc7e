namespace Slacker.Node.Containers;

/// <summary>What kind of cgroup setup this host has, as crun judges it.</summary>
public static class CgroupHost
{
    /// <summary>True on a hybrid host (v1 controllers plus a cgroup2 tree at /sys/fs/cgroup/unified) whose cgroup2 tree has controllers.</summary>
    public static bool IsHybridWithV2Controllers()
    {
        const string controllers = "/sys/fs/cgroup/unified/cgroup.controllers";
        try
        {
            return File.Exists(controllers) && File.ReadAllText(controllers).Trim().Length > 0;
        }
        catch (IOException)
        {
            return false;
        }
    }
}
