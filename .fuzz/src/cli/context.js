export const processIo = {
    out: (line) => process.stdout.write(line + '\n'),
    err: (line) => process.stderr.write(line + '\n'),
    isTty: Boolean(process.stdout.isTTY),
};
