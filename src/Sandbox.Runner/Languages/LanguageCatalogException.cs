namespace Sandbox.Runner.Languages;

/// <summary>
/// The language catalog file is malformed. The message is one line naming the file, the language and the
/// field that is wrong, e.g. <c>languages.yaml: language 'go': diagnostics[1].regex has no (?&lt;line&gt;...) group</c>.
/// </summary>
public sealed class LanguageCatalogException(string message, Exception? inner = null) : Exception(message, inner);
