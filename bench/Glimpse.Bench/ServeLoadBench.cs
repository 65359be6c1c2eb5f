using System.Diagnostics;
using System.Net.Sockets;
using Glimpse.Catalog;
using Glimpse.Models;

namespace Glimpse.Bench;

/// <summary>
/// Issue 7 item 5: a real `glimpse serve` on loopback over N random vectors with the tiny model,
/// and C concurrent clients sending text queries for a fixed time (bounded in count and time).
/// </summary>
internal static class ServeLoadBench
{
    public static void Run(string repo, string shared, int vectors, int clients, TimeSpan duration, bool ann)
    {
        string lib = Path.Combine(Path.GetTempPath(), "glimpse-servebench-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(lib);
        Process? server = null;
        try
        {
            string model = Path.Combine(shared, "models", "tiny-immich");
            using (var encoder = new ClipImageEncoder(ModelFolder.Open(model), 1))
            using (var catalog = new SqliteCatalog(Path.Combine(lib, ".glimpse", "catalog.db")))
            {
                catalog.BindModel(encoder.Identity);
                // Clustered, as CLIP vectors of real photos are (and as HNSW needs to be meaningful).
                var random = new Random(1);
                var centres = Enumerable.Range(0, 1000).Select(_ => Enumerable.Range(0, 512).Select(_ => (float)random.NextDouble() - 0.5f).ToArray()).ToArray();
                // Committed in batches of 32, as `glimpse index` commits them.
                for (int start = 0; start < vectors; start += 32)
                    catalog.Adopt(Enumerable.Range(start, Math.Min(32, vectors - start)).Select(i =>
                    {
                        float[] centre = centres[random.Next(centres.Length)];
                        var v = centre.Select(x => x + ((float)random.NextDouble() - 0.5f) * 0.5f).ToArray();
                        ClipImageEncoder.NormalizeInPlace(v);
                        return (new ScannedFile($"p{i:D7}.jpg", 1, 1), v);
                    }).ToList());
                if (ann)
                    Glimpse.Search.AnnIndex.Update(catalog); // serve then searches through it
            }

            int port = FreePort();
            var psi = new ProcessStartInfo(Path.Combine(repo, "glimpse")) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (string a in new[] { "serve", lib, "--port", port.ToString() })
                psi.ArgumentList.Add(a);
            server = Process.Start(psi)!;
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            var ready = Stopwatch.StartNew();
            while (true)
            {
                try
                {
                    if (http.GetAsync("/api/status").Result.IsSuccessStatusCode)
                        break;
                }
                catch (Exception) when (ready.Elapsed < TimeSpan.FromMinutes(2))
                {
                    Thread.Sleep(200);
                }
            }

            string[] words = ["dog", "beach", "cat", "mountain", "sunset", "car", "birthday", "snow", "city at night", "flowers"];
            var latencies = new List<double>();
            var clock = Stopwatch.StartNew();
            var tasks = Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
            {
                var mine = new List<double>();
                for (int i = 0; clock.Elapsed < duration && i < 10_000; i++)
                {
                    var sw = Stopwatch.StartNew();
                    using var response = await http.GetAsync($"/api/search?q={Uri.EscapeDataString($"a {words[(c + i) % words.Length]} {i}")}&limit=24");
                    if (!response.IsSuccessStatusCode)
                        throw new InvalidOperationException($"the server answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                    await response.Content.ReadAsByteArrayAsync();
                    mine.Add(sw.Elapsed.TotalMilliseconds);
                }
                lock (latencies)
                    latencies.AddRange(mine);
            })).ToArray();
            Task.WaitAll(tasks);
            double seconds = clock.Elapsed.TotalSeconds;
            latencies.Sort();
            Console.WriteLine($"## glimpse serve, tiny model, {vectors:N0} vectors, {(ann ? "ANN index" : "exact search")}, {clients} concurrent clients, {seconds:0} s");
            Console.WriteLine($"{latencies.Count / seconds:0.0} queries/s; latency p50 {latencies[latencies.Count / 2]:0.0} ms, p99 {latencies[(int)(latencies.Count * 0.99)]:0.0} ms ({latencies.Count} queries)");
        }
        finally
        {
            if (server is { HasExited: false })
                server.Kill(entireProcessTree: true);
            Directory.Delete(lib, recursive: true);
        }
    }

    static int FreePort()
    {
        var l = new TcpListener(System.Net.IPAddress.Loopback, 0);
        l.Start();
        int port = ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }
}
