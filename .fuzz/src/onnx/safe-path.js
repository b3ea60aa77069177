/**
 * Rules for external-data file names, shared by loading (a `location` written in a model, which may come from
 * anyone) and saving (the user's --external-data name): the file must sit inside the model's folder, named by a
 * relative path without `..`, and be a plain file with one name (no symlink, no hardlink), so that a model cannot
 * make regraft read or overwrite files elsewhere.
 */
import { constants } from 'node:fs';
import { lstat, open, realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep, win32 } from 'node:path';
import { RegraftError } from '../errors.js';
/**
 * Checks a location string and returns the absolute path it names inside `modelDir`. `where` starts each error
 * message (e.g. "m.onnx: tensor 'W'").
 */
export function resolveDataLocation(modelDir, location, where) {
    const refuse = (why) => new RegraftError(`${where}: external data location '${location}' ${why}; keep data files inside the model's folder, named by a relative path`);
    if (location === '')
        throw refuse('is empty');
    if (location.includes('\0'))
        throw refuse('contains a NUL character');
    if (isAbsolute(location) || win32.isAbsolute(location))
        throw refuse('is an absolute path');
    if (location.split(/[\\/]/).includes('..'))
        throw refuse("contains '..'");
    const target = resolve(modelDir, location);
    if (!isInside(resolve(modelDir), target))
        throw refuse("resolves outside the model's folder");
    return target;
}
/** Opens an existing external data file for reading, refusing anything but a single-named file in `modelDir`. */
export async function openDataFileForRead(modelDir, location, where) {
    const path = resolveDataLocation(modelDir, location, where);
    const refuse = (why, todo) => new RegraftError(`${where}: external data file '${location}' ${why}; ${todo}`);
    const info = await lstat(path).catch((err) => {
        if (err.code === 'ENOENT' || err.code === 'ENOTDIR') {
            throw refuse('does not exist', 'copy it next to the model or fix the location');
        }
        throw refuse(`cannot be read (${err.code ?? err.message})`, 'check its permissions');
    });
    assertPlainFile(info, refuse);
    await assertRealPathInside(modelDir, path, refuse);
    // O_NOFOLLOW and the identity check close the gap between the checks above and the open.
    const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW).catch((err) => {
        throw refuse(`cannot be opened (${err.code ?? err.message})`, 'check its permissions');
    });
    try {
        const opened = await handle.stat();
        if (opened.ino !== info.ino || opened.dev !== info.dev)
            throw refuse('changed while being opened', 'try again');
        assertPlainFile(opened, refuse);
        return { handle, size: opened.size, path };
    }
    catch (err) {
        await handle.close();
        throw err;
    }
}
/**
 * Checks a path that a save will write (replacing any file there): same naming rules, and an existing file there
 * must be a plain single-named file, since replacing a symlink or a hardlink would surprise whoever shares it.
 */
export async function checkDataFileTarget(modelDir, location, where) {
    const path = resolveDataLocation(modelDir, location, where);
    const refuse = (why, todo) => new RegraftError(`${where}: external data file '${location}' ${why}; ${todo}`);
    const info = await lstat(path).catch((err) => {
        if (err.code === 'ENOENT')
            return undefined;
        throw refuse(`cannot be checked (${err.code ?? err.message})`, 'choose another name');
    });
    if (info !== undefined)
        assertPlainFile(info, (why) => refuse(why, 'choose another name'));
    return path;
}
function assertPlainFile(info, refuse) {
    if (info.isSymbolicLink())
        throw refuse('is a symlink', 'replace it with the real file');
    if (info.isDirectory())
        throw refuse('is a folder, not a file', 'fix the location');
    if (!info.isFile())
        throw refuse('is not a regular file', 'fix the location');
    if (info.nlink > 1)
        throw refuse('is a hardlink (it has other names)', 'replace it with a copy');
}
/** Symlinked parent folders could still lead outside; compare the real paths. */
async function assertRealPathInside(modelDir, path, refuse) {
    const [realDir, realFile] = await Promise.all([realpath(modelDir), realpath(path)]);
    if (!isInside(realDir, realFile)) {
        throw refuse("lies outside the model's folder through a symlinked folder", 'keep data files inside the model\'s folder');
    }
}
function isInside(folder, path) {
    const rel = relative(folder, path);
    return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
}
