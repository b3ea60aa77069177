/** Binds options to a pass for `runPasses`: `step(insertDropoutPass, { after: ['Relu'] })`. */
export function step(pass, options) {
    return { pass: pass, options };
}
