namespace Glimpse.Tests.Support;

/// <summary>A real <c>glimpse serve</c> on a free loopback port, started and waited for until it answers.</summary>
internal sealed class ServeProcess : IDisposable
{
    readonly CliProcess _process;

    ServeProcess(CliProcess process, HttpClient client)
    {
        _process = process;
        Client = client;
    }

    public HttpClient Client { get; }
    public string Stderr => _process.Stderr;

    public static async Task<ServeProcess> StartAsync(string root, params string[] extraArgs)
    {
        int port = FakeHuggingFace.FreePort();
        var process = CliProcess.Start(["serve", root, "--port", port.ToString(), .. extraArgs]);
        var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            try
            {
                if ((await client.GetAsync("/api/status")).IsSuccessStatusCode)
                    return new ServeProcess(process, client);
            }
            catch (HttpRequestException) when (clock.Elapsed < TimeSpan.FromSeconds(90) && !process.HasExited)
            {
            }
            Assert.False(process.HasExited, process.Stderr);
            await Task.Delay(200);
        }
    }

    public void Dispose()
    {
        _process.Dispose();
        Client.Dispose();
    }
}
