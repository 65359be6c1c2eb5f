using System.Diagnostics;
using Glimpse.Catalog;
using Glimpse.Indexing;
using Glimpse.Models;

namespace Glimpse.Bench;

/// <summary>
/// Issue 16 item 3: a real `glimpse watch` over a tree of N indexed files: what its first pass
/// (a full safety rescan of an unchanged tree) costs, what it costs idle (CPU seconds and RSS over
/// some minutes), and how long a photo takes from landing in the tree to being searchable.
/// </summary>
internal static class WatchBench
{
    public static void Run(string repo, string shared, string cache, int count, double idleMinutes)
    {
        string model = Path.Combine(shared, "models", "tiny-immich");
        string root = RescanBench.Tree(cache, count);
        string db = Path.Combine(root, ".glimpse", "catalog.db");
        Directory.CreateDirectory(Path.GetDirectoryName(db)!);
        foreach (string f in new[] { db, db + "-wal", db + "-shm", db + ".watch" })
            File.Delete(f);
        if (Directory.Exists(Path.Combine(root, "new")))
            Directory.Delete(Path.Combine(root, "new"), recursive: true); // the photos an earlier run landed
        using (var catalog = new SqliteCatalog(db))
        {
            var identity = ModelFolder.Open(model).ReadIdentity() with { Folder = model };
            catalog.BindModel(identity);
            var files = new FileScanner(root, Path.GetDirectoryName(db), _ => { }).Scan(CancellationToken.None).ToList();
            var vector = new float[identity.Dimension];
            vector[0] = 1;
            foreach (var chunk in files.Chunk(10_000))
                catalog.Adopt(chunk.Select(f => (f, vector)).ToList());
        }

        var psi = new ProcessStartInfo(Path.Combine(repo, "glimpse")) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in new[] { "watch", root, "--model", model, "--settle", "10" })
            psi.ArgumentList.Add(a);
        var clock = Stopwatch.StartNew();
        using var watch = Process.Start(psi)!;
        var lines = new List<string>();
        watch.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (lines) lines.Add($"{clock.Elapsed.TotalSeconds:0.0} {e.Data}"); };
        watch.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (lines) lines.Add($"{clock.Elapsed.TotalSeconds:0.0} {e.Data}"); };
        watch.BeginOutputReadLine();
        watch.BeginErrorReadLine();
        try
        {
            double watching = WaitForLine(lines, "watching", clock);
            double firstPass = WaitForLine(lines, " start (", clock) - watching;
            Console.WriteLine($"## glimpse watch over {count:N0} indexed files, tiny model, {Environment.ProcessorCount} cores");
            Console.WriteLine($"first pass (a full rescan of the unchanged tree): {firstPass:0.00} s");

            int pid = ChildDotnet(watch.Id);
            (double cpu0, long rss0) = Sample(pid);
            Thread.Sleep(TimeSpan.FromMinutes(idleMinutes));
            (double cpu1, long rss1) = Sample(pid);
            Console.WriteLine($"idle for {idleMinutes:0.#} min: {cpu1 - cpu0:0.00} CPU-s ({(cpu1 - cpu0) / (idleMinutes * 60) * 100:0.000} % of one core), RSS {rss0 / 1024.0:0} -> {rss1 / 1024.0:0} MB");

            string photo = Directory.GetFiles(Path.Combine(shared, "fixtures", "preprocess"), "*.jpg").Order().First();
            Directory.CreateDirectory(Path.Combine(root, "new"));
            byte[] bytes = File.ReadAllBytes(photo);
            for (int i = 0; i < 4; i++)
            {
                // Two land as a finished download does (written aside with the photo's own time,
                // then renamed: already settled); two are written in place now (they must wait out
                // the settle time, so a half-written file is never embedded).
                bool fresh = i >= 2;
                string name = $"landed{i}.jpg";
                string target = Path.Combine(root, "new", name);
                var landed = Stopwatch.StartNew();
                if (fresh)
                {
                    File.WriteAllBytes(target, bytes);
                }
                else
                {
                    File.WriteAllBytes(target + ".part", bytes);
                    File.SetLastWriteTimeUtc(target + ".part", File.GetLastWriteTimeUtc(photo));
                    File.Move(target + ".part", target);
                }
                while (!IsDone(db, $"new/{name}"))
                {
                    if (landed.Elapsed > TimeSpan.FromMinutes(2))
                        throw new TimeoutException($"new/{name} not searchable: {string.Join('\n', lines)}");
                    Thread.Sleep(100);
                }
                Console.WriteLine(fresh
                    ? $"photo written in place now -> searchable: {landed.Elapsed.TotalSeconds:0.0} s (the 10 s settle time, then a pass)"
                    : $"photo landed whole with an older time -> searchable: {landed.Elapsed.TotalSeconds:0.0} s (2 s of quiet events, then a pass)");
            }
        }
        finally
        {
            if (!watch.HasExited)
            {
                Posix(watch.Id);
                watch.WaitForExit(30_000);
            }
        }
    }

    static bool IsDone(string db, string path)
    {
        using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={db};Mode=ReadOnly");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT status FROM images WHERE path = $p";
        command.Parameters.AddWithValue("$p", path);
        return command.ExecuteScalar() is long status && status == 2;
    }

    static double WaitForLine(List<string> lines, string marker, Stopwatch clock)
    {
        while (clock.Elapsed < TimeSpan.FromMinutes(10))
        {
            lock (lines)
                if (lines.FirstOrDefault(l => l.Contains(marker, StringComparison.Ordinal)) is { } line)
                    return double.Parse(line[..line.IndexOf(' ')], System.Globalization.CultureInfo.InvariantCulture);
            Thread.Sleep(50);
        }
        throw new TimeoutException($"no '{marker}': {string.Join('\n', lines)}");
    }

    /// <summary>The dotnet process the ./glimpse wrapper started (the wrapper execs it, or is its parent).</summary>
    static int ChildDotnet(int pid)
    {
        for (int tries = 0; tries < 50; tries++)
        {
            if (File.ReadAllText($"/proc/{pid}/comm").Trim() is "dotnet" or "Glimpse.Cli")
                return pid;
            foreach (string dir in Directory.GetDirectories("/proc").Where(d => int.TryParse(Path.GetFileName(d), out _)))
            {
                try
                {
                    string[] stat = File.ReadAllText(Path.Combine(dir, "stat")).Split(' ');
                    if (stat[3] == pid.ToString(System.Globalization.CultureInfo.InvariantCulture))
                        return int.Parse(Path.GetFileName(dir), System.Globalization.CultureInfo.InvariantCulture);
                }
                catch (IOException)
                {
                }
            }
            Thread.Sleep(100);
        }
        return pid;
    }

    static (double CpuSeconds, long RssKb) Sample(int pid)
    {
        string[] stat = File.ReadAllText($"/proc/{pid}/stat").Split(')')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        double ticks = double.Parse(stat[11], System.Globalization.CultureInfo.InvariantCulture) + double.Parse(stat[12], System.Globalization.CultureInfo.InvariantCulture);
        long rss = File.ReadLines($"/proc/{pid}/status").Where(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))
            .Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture)).First();
        return (ticks / 100.0, rss);
    }

    static void Posix(int pid) => Process.Start("kill", ["-TERM", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
}
