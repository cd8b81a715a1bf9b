/* The native JIT backend on x86-64 hosts (jit/backend.h): the emit
 * driver, -d out_asm, and the JitBackend itself.  Lowering is in lower.c
 * and memory.c, register allocation in regalloc.c, the entry trampoline,
 * exits and chaining in runtime.c. */
#include <capstone/capstone.h>
#include <stdlib.h>
#include <string.h>

#include "jit/x86_64/x64.h"
#include "util/log.h"

/* The entry test (docs/jit.md): leave with CPU_OK, state untouched, if
 * the block's instructions would pass the budget. */
static void entry_test(XCtx *x)
{
    XEmitter *e = &x->e;
    x_mov_r_rm(e, 8, X_RAX, x_mem(X_CPU_REG, (int32_t)offsetof(Cpu, s.icount)));
    x_alu_rm_imm(e, XA_ADD, 8, x_reg(X_RAX), (int32_t)x->jb->insns);
    x_alu_r_rm(e, XA_CMP, 8, X_RAX, x_mem(X_CPU_REG, (int32_t)offsetof(Cpu, icount_limit)));
    x_jcc_stub(x, XC_A, XR_EXIT_OK);
}

/* A block must end in GOTO, LOOKUP or EXIT: code never runs off its end. */
static bool ends_block(const IrBlock *ir)
{
    for (uint32_t i = ir->count; i-- > 0;) {
        uint8_t opc = ir->ops[i].opc;
        if (opc == IR_NOP || opc == IR_INSN)
            continue;
        return opc == IR_GOTO || opc == IR_LOOKUP || opc == IR_EXIT;
    }
    return false;
}

/* The instruction marks follow the code in the cache (never executed):
 * a magic word, their count, then the marks; none unless -d out_asm was
 * on when the block was translated. */
#define MARKS_MAGIC 0x534e4958u   /* "XINS" */

static void emit_marks(XCtx *x)
{
    x_align(&x->e, 4, 0);
    x_u32(&x->e, MARKS_MAGIC);
    x_u32(&x->e, x->nmarks);
    for (uint32_t i = 0; i < x->nmarks; i++) {
        x_u32(&x->e, x->marks[i].insn);
        x_u32(&x->e, x->marks[i].offset);
    }
}

static const uint32_t *find_marks(const JitBlock *jb, uint32_t *count)
{
    uintptr_t at = ((uintptr_t)jb->code + jb->code_size + 3) & ~(uintptr_t)3;
    const uint32_t *m = (const uint32_t *)at;
    JitCache *c = jb->backend_data;
    if (!c || !jit_cache_contains(c, m + 1) || m[0] != MARKS_MAGIC ||
        !jit_cache_contains(c, (const uint8_t *)(m + 2 + 2 * (size_t)m[1]) - 1))
        return NULL;
    *count = m[1];
    return m + 2;
}

static bool resolve_labels(XCtx *x)
{
    for (uint32_t i = 0; i < x->nfixups; i++) {
        size_t target = x->label_pos[x->fixups[i].label];
        if (target == SIZE_MAX || target < x->fixups[i].disp_pos)
            return false;   /* undefined, or a backward branch */
        x_patch_rel32(&x->e, x->fixups[i].disp_pos, target);
    }
    return true;
}

static bool x_emit(JitCache *cache, const IrBlock *ir, JitBlock *jb)
{
    if (!cache->stubs[XR_PROLOGUE] && !x_runtime_init(cache))
        return false;
    if (!ends_block(ir) || jb->insns > INT32_MAX)
        return false;
    XCtx x = { .ir = ir, .jb = jb, .cache = cache };
    if (!x_regalloc(ir, &x.alloc))
        return false;
    bool ok = false;
    x.label_pos = malloc(sizeof(size_t) * (ir->labels + 1));
    if (!x.label_pos)
        goto out;
    for (uint32_t i = 0; i < ir->labels; i++)
        x.label_pos[i] = SIZE_MAX;
    if (log_enabled(LOG_OUT_ASM)) {
        x.mark_cap = ir->count;
        x.marks = malloc(sizeof(*x.marks) * (ir->count + 1));
    }

    size_t room;
    uint8_t *rx = jit_cache_next(cache, &room);
    x_init(&x.e, jit_cache_rw(cache, rx), rx, room);
    jb->goto_site[0] = jb->goto_site[1] = NULL;
    entry_test(&x);
    for (uint32_t i = 0; i < ir->count && !x.failed; i++)
        x_lower_op(&x, i);
    x_emit_slow_paths(&x);
    size_t code_size = x.e.pos;
    emit_marks(&x);
    if (x.failed || x.e.overflow || !resolve_labels(&x) ||
        jit_cache_alloc(cache, x.e.pos) != rx) {
        jb->goto_site[0] = jb->goto_site[1] = NULL;
        goto out;
    }
    jit_cache_sync(cache, rx, x.e.pos);
    jb->code = rx;
    jb->code_size = code_size;
    jb->backend_data = cache;
    ok = true;
out:
    x_regalloc_free(&x.alloc);
    free(x.label_pos);
    free(x.fixups);
    free(x.slow);
    free(x.marks);
    return ok;
}

static void x_release(JitBlock *jb)
{
    jb->backend_data = NULL;
}

static void x_disas(const JitBlock *jb)
{
    csh h;
    if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK) {
        log_printf("out_asm: Capstone unavailable\n");
        return;
    }
    cs_insn *insn = NULL;
    size_t n = cs_disasm(h, jb->code, jb->code_size, (uint64_t)(uintptr_t)jb->code,
                         0, &insn);
    uint32_t nmarks = 0, next = 0;
    const uint32_t *marks = find_marks(jb, &nmarks);
    log_printf("OUT: [size=%zu]\n", jb->code_size);
    for (size_t i = 0; i < n; i++) {
        uint64_t offset = insn[i].address - (uint64_t)(uintptr_t)jb->code;
        for (; marks && next < nmarks && marks[2 * next + 1] <= offset; next++)
            log_printf(" ---- insn %u\n", marks[2 * next]);
        log_printf("  0x%012llx:  %s %s\n", (unsigned long long)insn[i].address,
                   insn[i].mnemonic, insn[i].op_str);
    }
    if (n)
        cs_free(insn, n);
    cs_close(&h);
}

static const JitBackend x86_64_backend = {
    .name = "x86_64",
    .emit = x_emit,
    .enter = x_enter,
    .chain = x_chain,
    .unchain = x_unchain,
    .release = x_release,
    .disas = x_disas,
};

const JitBackend *jit_backend_native(void)
{
    return &x86_64_backend;
}
