#!/usr/bin/env python
"""Per-iteration cost of a U-GAT-IT training step: ugatit_nb's step, its options, and the release's own step.

release rebuild = the release's own training iteration, rebuilt in ugatit_nb.release_rebuild (05a_release_rebuild).
release-like = the same networks and losses computed the way the reference PyTorch release computes them: one
network call per image batch, the discriminator step's fakes built with a graph through the generators, gradients for
the discriminators' weights computed (and discarded) in the generator step, and AdaLIN/LIN computed as the paper writes
them. The rows between switch one thing at a time, so each saving can be read off. Every row starts from the presets'
FAST_STEP (fused calls, frozen critics) and is built by trainer_for: 'plain step (08_train)' is UGATIT itself, the
others FastUGATIT.

For each (size, variant) a fresh process builds the model, runs 2 warm-up iterations, times --iters iterations, then
counts the bytes autograd saves for backward in one more iteration (torch.autograd.graph.saved_tensors_hooks; unique
storages, parameters excluded). Peak RSS is the process's maximum resident set. On CUDA it also reports the peak
allocated GPU memory and how busy the GPU was: the profiler's CUDA time over wall time across 3 more iterations.
Usage:

    python benchmarks/train_step.py --sizes small tiny --iters 10      # the CPU rows: 128 px light ch 16, the tiny preset
    python benchmarks/train_step.py --sizes full --iters 2 --variants ugatit_nb "step in backward" "release rebuild"
    python benchmarks/train_step.py --device cuda --sizes small full --iters 20     # every GPU row (compiled ones too)
    python benchmarks/train_step.py --ddp 2 --device cuda --sizes full    # 1 GPU vs 2 GPUs (torchrun, NCCL), batch 1 each

--ddp N times the ugatit_nb step in one process and in N processes started by torchrun (batch 1 per process, so N
images per step), and prints the throughput scaling. On the CPU the N processes share the machine's cores (gloo): that
row shows the cost of the gradient exchange, not a speed-up.
"""
import argparse, json, os, resource, statistics, subprocess, sys, time

SIZES = {'small': dict(light=True, img_size=128, ch=16, n_dis=7),      # 128 px, ch 16, light
         'full': dict(light=False, img_size=256, ch=64, n_dis=7),      # the paper's 256 px full model
         'tiny': dict(light=True, img_size=64, ch=16, n_res=2, n_dis=6)}   # the tiny preset's networks
VARIANTS = {'ugatit_nb': {},                            # the presets' FAST_STEP: exact (the release-equality test)
            'step in backward': dict(step_in_backward=True),                   # exact, less memory
            'fused Adam': dict(adam='fused'),                                   # other rounding
            'step in backward, fused Adam': dict(step_in_backward=True, adam='fused'),   # the leanest
            'bf16': dict(amp='bf16'),
            'bf16, step in backward': dict(amp='bf16', step_in_backward=True),
            'compiled': dict(compile=True),                                     # CUDA rows only (minutes on a CPU)
            'compiled, reduce-overhead': dict(compile=True, compile_mode='reduce-overhead'),   # CUDA graphs
            'bf16, compiled': dict(amp='bf16', compile=True),
            'channels_last': dict(channels_last=True),                          # CUDA rows only
            'one call per image': dict(fuse_calls=False),
            'plain step (08_train)': dict(fuse_calls=False, freeze_d_in_g_step=False),   # no speed option at all
            'translate twice': dict(fuse_calls=False, share_translations=False),
            'twice, D-step fakes in graph': dict(fuse_calls=False, share_translations=False, detach_d_fakes=False),
            'release-like': dict(fuse_calls=False, detach_d_fakes=False, freeze_d_in_g_step=False, fold_norms=False,
                                 share_translations=False),
            'release rebuild': None}                     # ugatit_nb.release_rebuild (05a_release_rebuild): the release's own code
GPU_ONLY = ('compiled', 'compiled, reduce-overhead', 'bf16, compiled', 'channels_last')
CPU_DEFAULT = ('ugatit_nb', 'step in backward', 'fused Adam', 'bf16', 'one call per image', 'plain step (08_train)',
               'translate twice', 'release-like', 'release rebuild')


def release_worker(size, iters, device):
    "The release's training iteration, rebuilt in ugatit_nb.release_rebuild (05a_release_rebuild) (torch's spectral-norm hooks and all)."
    import os, torch
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tests'))
    from ugatit_nb.release_rebuild import release_networks, release_optimizers, release_train_step
    c = {**dict(n_res=4), **SIZES[size]}
    nets = {k: m.to(device) for k, m in release_networks(c['ch'], c['n_res'], c['img_size'], c['light']).items()}
    G, D = release_optimizers(nets)
    s = c['img_size']
    a, b = torch.rand(1, 3, s, s, device=device) * 2 - 1, torch.rand(1, 3, s, s, device=device) * 2 - 1
    sync = torch.cuda.synchronize if device.startswith('cuda') else (lambda: None)
    for i in range(2): release_train_step(nets, G, D, a, b, 1 + i, 10**6)
    if device.startswith('cuda'): torch.cuda.reset_peak_memory_stats()
    times = []
    for i in range(iters):
        sync(); t0 = time.perf_counter(); release_train_step(nets, G, D, a, b, 3 + i, 10**6); sync(); times.append(time.perf_counter() - t0)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    gpu = torch.cuda.max_memory_allocated() if device.startswith('cuda') else None
    busy = gpu_busy(lambda: release_train_step(nets, G, D, a, b, 3, 10**6)) if device.startswith('cuda') else None
    return dict(size=size, variant='release rebuild', sec=statistics.median(times), saved=None, rss=rss, gpu=gpu, busy=busy)


def worker(size, variant, iters, device, amp):
    if VARIANTS[variant] is None: return release_worker(size, iters, device)
    import torch
    from ugatit_nb.methods import trainer_for
    from ugatit_nb.config import FAST_STEP, UGATITConfig
    cfg = UGATITConfig(**SIZES[size], device=device, **(FAST_STEP | {'amp': amp} | VARIANTS[variant]))
    m = trainer_for(cfg)                                 # UGATIT for the plain step, FastUGATIT for every other row
    s = cfg.img_size
    a, b = torch.rand(1, 3, s, s) * 2 - 1, torch.rand(1, 3, s, s) * 2 - 1
    sync = torch.cuda.synchronize if m.device.type == 'cuda' else (lambda: None)
    for _ in range(2): m.train_step(a, b)               # warm-up (allocator, cuDNN autotuning, Adam state, compiling)
    if m.device.type == 'cuda': torch.cuda.reset_peak_memory_stats()
    times = []
    for _ in range(iters):
        sync(); t0 = time.perf_counter(); m.train_step(a, b); sync(); times.append(time.perf_counter() - t0)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    gpu = torch.cuda.max_memory_allocated() if m.device.type == 'cuda' else None
    busy = gpu_busy(lambda: m.train_step(a, b)) if m.device.type == 'cuda' else None
    params = {p.untyped_storage().data_ptr() for net in m.nets.values() for p in net.parameters()}
    held, seen = [], {}                                  # hold every packed tensor: no address reuse in the count
    def pack(t):
        st = t.untyped_storage()
        if st.data_ptr() not in params: seen[st.data_ptr()] = st.nbytes()
        held.append(t); return t
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        m.train_step(a, b)
    return dict(size=size, variant=variant, sec=statistics.median(times), saved=sum(seen.values()), rss=rss, gpu=gpu,
                busy=busy)


def gpu_busy(step, n=3):
    "CUDA time ÷ wall time over n steps, from torch.profiler (kernels and copies as the profiler times them)."
    import torch
    from torch.profiler import profile, ProfilerActivity
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        t0 = time.perf_counter()
        for _ in range(n): step()
        torch.cuda.synchronize(); wall = time.perf_counter() - t0
    cuda_us = sum(e.self_device_time_total for e in prof.key_averages())
    return cuda_us / 1e6 / wall


def ddp_worker(size, iters, device):
    "Run under torchrun: every process times the same steps; rank 0 prints the median."
    import torch
    from ugatit_nb.methods import trainer_for
    from ugatit_nb.config import FAST_STEP, UGATITConfig
    m = trainer_for(UGATITConfig(**SIZES[size], device=device, **FAST_STEP))
    s = m.config.img_size
    a, b = torch.rand(1, 3, s, s) * 2 - 1, torch.rand(1, 3, s, s) * 2 - 1
    sync = torch.cuda.synchronize if m.device.type == 'cuda' else (lambda: None)
    m.train_step(a, b)
    times = []
    for _ in range(iters):
        sync(); t0 = time.perf_counter(); m.train_step(a, b); sync(); times.append(time.perf_counter() - t0)
    if m.rank == 0: print(json.dumps(dict(world=m.world_size, sec=statistics.median(times))))
    from ugatit_nb.distributed import finish_distributed
    finish_distributed()


def ddp_rows(sizes, n, iters, device):
    import torch
    print(f'torch {torch.__version__}, device {device}, {iters} timed iterations (median), batch 1 per process')
    if device == 'cpu':
        print(f'CPU: the {n} processes share this machine\'s {os.cpu_count()} cores (gloo); this shows the cost of the '
              'gradient exchange, not the scaling of a multi-GPU machine')
    print(f'{"size":6} {"processes":>9} {"s/iter":>8} {"images/s":>9} {"scaling":>8}')
    for size in sizes:
        res = {}
        for k in (1, n):
            cmd = ([sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', str(k)] if k > 1
                   else [sys.executable]) + [__file__, '--ddp-worker', size, '--iters', str(iters), '--device', device]
            out = subprocess.run(cmd, capture_output=True, text=True)
            if out.returncode: sys.exit(f'{size}/{k} processes failed:\n{out.stderr[-3000:]}')
            r = res[k] = json.loads([l for l in out.stdout.splitlines() if l.startswith('{')][-1])
            ips = k / r['sec']
            print(f'{size:6} {k:9d} {r["sec"]:8.3f} {ips:9.2f} {ips / (1 / res[1]["sec"]):8.2f}', flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--sizes', nargs='+', default=['small', 'full'], choices=list(SIZES))
    p.add_argument('--iters', type=int, default=2)
    p.add_argument('--rounds', type=int, default=1, help='run every row this many times, interleaved; report the median')
    p.add_argument('--device', default='cpu')
    p.add_argument('--variants', nargs='+', choices=list(VARIANTS), metavar='VARIANT',
                   help='rows to run (default: every row on CUDA; on a CPU, all but the compiled and channels_last ones)')
    p.add_argument('--amp', default='off', choices=['off', 'bf16', 'fp16'], help='for the rows that do not set it')
    p.add_argument('--ddp', type=int, default=0, metavar='N', help='1 process vs N processes (torchrun)')
    p.add_argument('--worker', nargs=2, help=argparse.SUPPRESS)
    p.add_argument('--ddp-worker', help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.ddp_worker: ddp_worker(a.ddp_worker, a.iters, a.device); return
    if a.ddp: ddp_rows(a.sizes, a.ddp, a.iters, a.device); return
    if a.worker:
        print(json.dumps(worker(*a.worker, a.iters, a.device, a.amp))); return
    import torch
    cuda = a.device.startswith('cuda')
    if cuda and not torch.cuda.is_available(): sys.exit(f'--device {a.device}: CUDA is not available here')
    variants = a.variants or [v for v in VARIANTS if cuda or v in CPU_DEFAULT]
    print(f'torch {torch.__version__}, device {torch.cuda.get_device_name(a.device) if cuda else "cpu"}, amp {a.amp} '
          f'(where a row does not set it), threads {torch.get_num_threads()}, batch 1, median of {a.iters} timed '
          f'iterations' + (f', median over {a.rounds} interleaved rounds' if a.rounds > 1 else ''))
    gb = lambda x: f'{x / 2**30:.2f}' if x is not None else '-'
    print(f'{"size":6} {"variant":28} {"s/iter":>8} {"÷ release":>9} {"saved GiB":>9} {"peak RSS GiB":>12} '
          f'{"peak GPU GiB":>12} {"GPU busy":>8}')
    for size in a.sizes:
        todo = [v for v in variants if not (VARIANTS[v] is None and SIZES[size]['n_dis'] != 7)]   # the release: 7-layer critics
        runs = {v: [] for v in todo}
        for _ in range(a.rounds):
            for variant in todo:
                out = subprocess.run([sys.executable, __file__, '--worker', size, variant, '--iters', str(a.iters),
                                      '--device', a.device, '--amp', a.amp], capture_output=True, text=True)
                if out.returncode: sys.exit(f'{size}/{variant} failed:\n{out.stderr[-3000:]}')
                runs[variant].append(json.loads(out.stdout.strip().splitlines()[-1]))
        rows = {v: min(r, key=lambda x: x['sec']) | {'sec': statistics.median(x['sec'] for x in r)} for v, r in runs.items()}
        base = rows.get('release rebuild')
        for variant, r in rows.items():
            ratio = f'{r["sec"] / base["sec"]:9.2f}' if base else f'{"-":>9}'
            busy = f'{100 * r["busy"]:7.0f}%' if r.get('busy') is not None else f'{"-":>8}'
            print(f'{size:6} {variant[:28]:28} {r["sec"]:8.3f} {ratio} {gb(r["saved"]):>9} {gb(r["rss"]):>12} '
                  f'{gb(r["gpu"]):>12} {busy}', flush=True)


if __name__ == '__main__':
    main()
