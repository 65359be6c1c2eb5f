using System.Diagnostics;
using Glimpse.Tests.Support;

namespace Glimpse.Tests.Catalog;

// Issue 14, item 3: a full disk stops a run with one line that says what is safe and what to do,
// the catalog then moves to a disk with room and the run finishes; `catalog backup` copies a live
// catalog consistently.
public class DiskFullAndBackupTests : IDisposable
{
    readonly TempDir _dir = new();

    /// <summary>Runs only where a tmpfs can be mounted (root with CAP_SYS_ADMIN, as CI here is).</summary>
    public sealed class TmpfsFactAttribute : FactAttribute
    {
        public TmpfsFactAttribute()
        {
            if (!Tmpfs.CanMount())
                Skip = "mounting a tmpfs is not allowed here (needs root and CAP_SYS_ADMIN): the full-disk test cannot run";
        }
    }

    static class Tmpfs
    {
        public static bool CanMount()
        {
            string probe = Path.Combine(Path.GetTempPath(), "glimpse-tmpfs-probe-" + Guid.NewGuid().ToString("N")[..8]);
            Directory.CreateDirectory(probe);
            try
            {
                if (Run("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", probe) != 0)
                    return false;
                Run("umount", probe);
                return true;
            }
            finally
            {
                Directory.Delete(probe);
            }
        }

        public static int Run(string file, params string[] args)
        {
            try
            {
                var psi = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true };
                foreach (string a in args)
                    psi.ArgumentList.Add(a);
                using var p = Process.Start(psi)!;
                p.WaitForExit();
                return p.ExitCode;
            }
            catch (System.ComponentModel.Win32Exception)
            {
                return -1;
            }
        }
    }

    [TmpfsFact]
    public void A_full_disk_stops_the_run_with_one_line_and_the_moved_catalog_finishes_it()
    {
        string photos = _dir.Sub("photos");
        TestImages.Write(photos, 240);
        string small = _dir.Sub("small-disk");
        Assert.Equal(0, Tmpfs.Run("mount", "-t", "tmpfs", "-o", "size=640k", "tmpfs", small));
        string moved = _dir.Sub("roomy");
        try
        {
            string catalog = Path.Combine(small, "catalog.db");
            var (code, stdout, stderr) = CliProcess.Run(["index", photos, "--model", SharedFiles.TinyImmich, "--catalog", catalog, "--batch-size", "16"]);
            Assert.True(code == 1, $"exit {code}\n{stdout}\n{stderr}");
            string line = Assert.Single(stderr.Split('\n'), l => l.Contains("is full"));
            Assert.Contains(catalog, line);
            Assert.Matches(@"\d+ images are committed and safe", line);
            Assert.Contains("run the same command again", line);
            Assert.DoesNotContain("SqliteException", stderr);

            foreach (string file in Directory.GetFiles(small))
                File.Copy(file, Path.Combine(moved, Path.GetFileName(file)));
        }
        finally
        {
            Tmpfs.Run("umount", small);
        }

        string roomy = Path.Combine(moved, "catalog.db");
        var (again, output, errors) = CliProcess.Run(["index", photos, "--model", SharedFiles.TinyImmich, "--catalog", roomy]);
        Assert.True(again == 0, $"exit {again}\n{output}\n{errors}");
        var rows = CatalogReader.ReadAll(roomy);
        Assert.Equal(240, rows.Count);
        CatalogReader.AssertCompleteAndDense(rows);
        Assert.Equal(0, CliProcess.Run(["verify", "--catalog", roomy]).ExitCode);
    }

    [Fact]
    public void A_clean_exit_leaves_the_catalog_file_whole_on_its_own()
    {
        string photos = _dir.Sub("photos");
        TestImages.Write(photos, 20);
        Assert.Equal(0, CliProcess.Run(["index", photos, "--model", SharedFiles.TinyImmich]).ExitCode);
        string catalog = Path.Combine(photos, ".glimpse", "catalog.db");
        // The WAL was folded back: the file alone, copied elsewhere, holds every vector.
        string alone = Path.Combine(_dir.Sub("alone"), "catalog.db");
        File.Copy(catalog, alone);
        var rows = CatalogReader.ReadAll(alone);
        Assert.Equal(20, rows.Count);
        CatalogReader.AssertCompleteAndDense(rows);
    }

    [Fact]
    public void A_backup_taken_during_an_index_run_is_a_consistent_catalog()
    {
        string photos = _dir.Sub("photos");
        TestImages.Write(photos, 300);
        string backups = _dir.Sub("backups");
        using var run = CliProcess.Start(["index", photos, "--model", SharedFiles.TinyImmich, "--batch-size", "8"]);
        string catalog = Path.Combine(photos, ".glimpse", "catalog.db");
        var clock = Stopwatch.StartNew();
        while (!(File.Exists(catalog) && CatalogHasDone(catalog)) && clock.Elapsed < TimeSpan.FromMinutes(2))
            Thread.Sleep(50);

        var taken = new List<string>();
        for (int i = 0; i < 3 && !run.HasExited; i++)
        {
            string backup = Path.Combine(backups, $"b{i}.db");
            var (code, stdout, stderr) = CliProcess.Run(["catalog", "backup", backup, "--root", photos]);
            Assert.True(code == 0, $"{stdout}\n{stderr}");
            Assert.Contains("backed up", stdout);
            taken.Add(backup);
        }
        Assert.Equal(0, run.WaitForExit(TimeSpan.FromMinutes(3)));
        Assert.NotEmpty(taken);
        foreach (string backup in taken)
        {
            // Every done row has its vector and the indexes are dense: a snapshot of one moment.
            Assert.Equal(0, CliProcess.Run(["verify", "--catalog", backup]).ExitCode);
            Assert.False(File.Exists(backup + "-wal") && new FileInfo(backup + "-wal").Length > 0);
        }

        var (refused, _, why) = CliProcess.Run(["catalog", "backup", taken[0], "--root", photos]);
        Assert.Equal(1, refused);
        Assert.Contains("never overwritten", why);
    }

    static bool CatalogHasDone(string catalog)
    {
        try
        {
            return CatalogReader.ReadAll(catalog).Values.Any(r => r.Status == 2);
        }
        catch (Microsoft.Data.Sqlite.SqliteException)
        {
            return false;
        }
    }

    public void Dispose() => _dir.Dispose();
}
