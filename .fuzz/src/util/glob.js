/**
 * Shell-style name patterns for selecting nodes and parameters: `*` matches any run of characters (`/` included,
 * since ONNX names such as `fc1/Gemm` use it as an ordinary character), `?` one character; everything else is
 * literal. A pattern must match the whole name.
 */
export function globToRegExp(pattern) {
    let source = '';
    for (const ch of pattern) {
        if (ch === '*')
            source += '.*';
        else if (ch === '?')
            source += '.';
        else
            source += ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&');
    }
    return new RegExp(`^${source}$`, 's');
}
/** True when `name` matches at least one of the patterns. */
export function matchesAnyGlob(name, patterns) {
    return patterns.some((re) => re.test(name));
}
