using Microsoft.Data.Sqlite;

namespace Glimpse.Catalog;

internal sealed partial class SqliteCatalog
{
    /// <summary>SQLite's result code for "database or disk is full".</summary>
    const int SqliteFull = 13;

    /// <summary>
    /// Runs a write of an index run. A full disk stops the run with one line that names the
    /// catalog, says how much is committed (and so safe: a failed transaction is rolled back
    /// whole) and what to do, instead of "SqliteException: SQLite Error 13".
    /// </summary>
    T Writing<T>(Func<T> write)
    {
        try
        {
            return write();
        }
        catch (SqliteException e) when (e.SqliteErrorCode == SqliteFull)
        {
            string committed;
            try
            {
                committed = $"{CountDone()} images are committed and safe";
            }
            catch (SqliteException)
            {
                committed = "every committed image is safe";
            }
            throw new CatalogException(
                $"the disk holding the catalog {Location} is full: {committed} (in {Path.GetFileName(Location)} and its -wal file: " +
                "copy them together, or use 'glimpse catalog backup'). Free some space, or move the catalog to a disk with room " +
                "(--catalog NEW_PATH), and run the same command again to continue.", e);
        }
    }
}
