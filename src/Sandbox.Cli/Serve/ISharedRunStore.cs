namespace Sandbox.Cli.Serve;

/// <summary>
/// Where shared runs live. <see cref="SqliteSharedRunStore"/> is the default (one file under the data folder);
/// a server database can take its place by registering another implementation.
/// </summary>
public interface ISharedRunStore
{
    /// <summary>Stores a share under a new unguessable id (see <see cref="ShareId"/>) and returns it.</summary>
    Task<SharedRun> AddAsync(SharedRunContent content, CancellationToken cancellationToken);

    /// <summary>The share with that id, or null when there is none.</summary>
    Task<SharedRun?> GetAsync(string id, CancellationToken cancellationToken);
}
