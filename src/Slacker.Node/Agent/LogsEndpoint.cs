using Microsoft.AspNetCore.Http;
using Slacker.Node.Containers;

namespace Slacker.Node.Agent;

/// <summary>
/// GET /v1/containers/{id}/logs[?follow=true]: the container's CRI log lines as they are on disk. With follow the
/// response stays open and grows until the container's run ends.
/// </summary>
public static class LogsEndpoint
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(10);

    public static async Task StreamAsync(HttpContext http, ContainerManager manager, string id)
    {
        var record = manager.Get(id);
        var follow = NodeApi.Flag(http, "follow");
        var ended = follow && record.Status == ContainerStatus.Running ? manager.WaitAsync(record.Id, http.RequestAborted) : Task.CompletedTask;
        http.Response.ContentType = "text/plain; charset=utf-8";
        await http.Response.StartAsync(http.RequestAborted);

        var path = manager.Store.LogOf(record.Id);

        // The log file appears with the container's first output line; until then a follower waits for it
        // (a server that says nothing for a while must not end `logs -f`).
        while (!File.Exists(path))
        {
            if (ended.IsCompleted || http.RequestAborted.IsCancellationRequested)
            {
                return;
            }

            await Task.WhenAny(ended, Task.Delay(PollInterval, http.RequestAborted));
        }

        // FileShare.Delete: an --rm container may be removed while we still read the end of its log.
        await using var log = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.Asynchronous);
        var buffer = new byte[64 * 1024];
        while (!http.RequestAborted.IsCancellationRequested)
        {
            var wasEnded = ended.IsCompleted;
            int read;
            while ((read = await log.ReadAsync(buffer, http.RequestAborted)) > 0)
            {
                await http.Response.Body.WriteAsync(buffer.AsMemory(0, read), http.RequestAborted);
            }

            await http.Response.Body.FlushAsync(http.RequestAborted);
            if (wasEnded)
            {
                return;
            }

            // Tailing by polling: the writer appends whole lines, and a poll costs one read() per interval, so a
            // short interval is cheap and keeps a follower waiting for a "ready" line from adding much to it.
            await Task.WhenAny(ended, Task.Delay(PollInterval, http.RequestAborted));
        }
    }
}
