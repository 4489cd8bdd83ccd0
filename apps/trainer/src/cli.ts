// Command line: `lstm-train [options]` trains, `lstm-train sample ...` generates text.
import { Command, InvalidArgumentError, Option } from 'commander';
import { LstmError } from '@lstm/wasm';
import { UserError } from './errors.js';
import { sampleCommand, train, type CellName, type OptimizerName, type TrainOptions } from './train.js';

function int(min: number, max: number) {
  return (v: string): number => {
    // commander puts "option '--x <n>' argument 'v' is invalid." before this text
    const n = Number(v);
    if (!/^[+-]?\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`It must be an integer from ${min} to ${max}.`);
    }
    return n;
  };
}

function float(min: number, max: number, minOpen = false) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n > max || (minOpen ? n <= min : n < min)) {
      throw new InvalidArgumentError(`It must be a number ${minOpen ? 'above' : 'from'} ${min} ${minOpen ? 'up to' : 'to'} ${max}.`);
    }
    return n;
  };
}

const OPTIMIZERS: OptimizerName[] = ['adam', 'adamw', 'sgd', 'rmsprop', 'adagrad'];

export const DEFAULTS = {
  steps: 1200, cell: 'lstm' as CellName, hidden: 128, layers: 1, seqLength: 64, batchSize: 32, lr: 0.003, optimizer: 'adam' as OptimizerName,
  clip: 5, seed: 1, valFraction: 0.05, sampleEvery: 500, sampleLength: 200, checkpointEvery: 500, evalEvery: 100,
};

function program(): Command {
  const p = new Command('lstm-train');
  p.description('Train a character-level LSTM language model on a text file (by default on a built-in corpus of English first names), resume it, and sample from it.')
    .showSuggestionAfterError(false)
    .enablePositionalOptions() // the sample command's --seed is its own, not the trainer's
    .configureOutput({
      // commander's own errors (unknown option, bad number): one line, with what to do
      outputError: (str, write) => {
        const msg = str.trim().replace(/^error: /, '');
        write(`lstm-train: ${msg}${/[.!]$/.test(msg) ? '' : '.'} Run lstm-train --help for the options.\n`);
      },
    })
    .option('--data <file>', 'UTF-8 text file to train on (default: the built-in first-names corpus)')
    .option('--out <dir>', 'output folder for model.ckpt, loss.csv and loss.svg (default: runs/train, or the folder of --resume)')
    .option('--steps <n>', 'training steps in all (with --resume: the new total)', int(1, 100_000_000), DEFAULTS.steps)
    .addOption(new Option('--cell <type>', 'recurrent cell').choices(['lstm', 'gru', 'rnn']).default(DEFAULTS.cell))
    .option('--hidden <n>', 'hidden size', int(1, 4096), DEFAULTS.hidden)
    .option('--layers <n>', 'stacked LSTM layers', int(1, 16), DEFAULTS.layers)
    .option('--seq-length <n>', 'characters per chunk (truncated backpropagation through time)', int(1, 4096), DEFAULTS.seqLength)
    .option('--batch-size <n>', 'parallel streams per batch', int(1, 4096), DEFAULTS.batchSize)
    .option('--lr <x>', 'learning rate', float(0, 10, true), DEFAULTS.lr)
    .addOption(new Option('--optimizer <name>', 'optimizer').choices(OPTIMIZERS).default(DEFAULTS.optimizer))
    .option('--clip <x>', 'clip gradients to this global norm (0: no clipping)', float(0, 1e6), DEFAULTS.clip)
    .option('--seed <n>', 'seed of the initialisation and of the samples', int(0, 2 ** 32 - 1), DEFAULTS.seed)
    .option('--val-fraction <x>', 'fraction of the text, at its end, held out for validation', float(0, 0.5), DEFAULTS.valFraction)
    .option('--eval-every <n>', 'validate every n steps (0: only at the end)', int(0, 100_000_000), DEFAULTS.evalEvery)
    .option('--sample-every <n>', 'print a sample every n steps (0: never)', int(0, 100_000_000), DEFAULTS.sampleEvery)
    .option('--sample-length <n>', 'characters per sample', int(1, 1_000_000), DEFAULTS.sampleLength)
    .option('--checkpoint-every <n>', 'save the checkpoint every n steps (0: only at the end and on Ctrl-C)', int(0, 100_000_000), DEFAULTS.checkpointEvery)
    .option('--resume <file>', 'continue the run saved in this checkpoint')
    .option('--threads <n>', 'threads sharing each step (0: as many as the machine has, up to 4); results do not depend on it', int(0, 64), 0)
    .option('--overwrite', 'start a new run even if --out already holds a checkpoint', false)
    .addHelpText('after', `
Examples:
  lstm-train                                  train on the built-in corpus with the defaults
  lstm-train --data input.txt --out runs/mine --hidden 256 --steps 5000
  lstm-train --resume runs/mine/model.ckpt --steps 8000
  lstm-train sample --checkpoint runs/mine/model.ckpt --prompt "The " --length 300

Ctrl-C saves a checkpoint and stops; --resume continues from it.`)
    .action(async (o: Record<string, unknown>, cmd: Command) => {
      const given = new Set(Object.keys(o).filter((k) => cmd.getOptionValueSource(k) === 'cli'));
      process.exitCode = await train({ ...(o as unknown as TrainOptions), given });
    });

  p.command('sample')
    .description('print text generated by a trained model')
    .requiredOption('--checkpoint <file>', 'a .ckpt file written by lstm-train')
    .option('--prompt <text>', 'text that primes the state first (printed before the generated text)', '')
    .option('--length <n>', 'characters to generate', int(0, 10_000_000), 300)
    .option('--temperature <x>', 'sampling temperature (0: always the most likely character)', float(0, 100), 0.8)
    .option('--top-k <k>', 'sample among the k most likely characters only (0: all)', int(0, 1_000_000), 0)
    .option('--seed <n>', 'seed of the sampling', int(0, 2 ** 32 - 1), 1)
    .action(async (o: { checkpoint: string; prompt: string; length: number; temperature: number; topK: number; seed: number }) => {
      process.exitCode = await sampleCommand(o);
    });
  return p;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await program().parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof UserError || e instanceof LstmError) {
      process.stderr.write(`lstm-train: ${e.message}\n`);
      process.exitCode = e instanceof UserError ? e.exitCode : 1;
      return;
    }
    process.stderr.write(`lstm-train: internal error: ${(e as Error)?.stack ?? e}\n`);
    process.exitCode = 70;
  }
}
