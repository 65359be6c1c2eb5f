using Microsoft.Extensions.Hosting;

namespace Glimpse.Cli.Serve;

/// <summary>
/// A host lifetime that leaves SIGINT and SIGTERM to the command's <see cref="StopSignal"/>: the
/// default console lifetime would take them too and stop the host behind the command's back.
/// </summary>
internal sealed class CommandLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
