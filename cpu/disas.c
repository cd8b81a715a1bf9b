/* Guest disassembly through Capstone (for -d in_asm and test reports). */
#include "cpu/disas.h"

#include <capstone/capstone.h>
#include <pthread.h>
#include <stdio.h>

#include "cpu/cpu.h"
#include "util/log.h"

/* One Capstone handle per code size, opened on first use.  Only used for
 * logging, so a lock around each call is cheap enough. */
static csh handles[3];
static bool opened[3];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static csh handle_for(uint32_t mode)
{
    static const cs_mode modes[3] = { CS_MODE_16, CS_MODE_32, CS_MODE_64 };
    unsigned i = mode & CPU_MODE_SIZE_MASK;
    if (i > 2)
        i = 2;
    if (!opened[i]) {
        if (cs_open(CS_ARCH_X86, modes[i], &handles[i]) != CS_ERR_OK)
            return 0;
        opened[i] = true;
    }
    return handles[i];
}

size_t disas_one(const uint8_t *bytes, size_t len, uint64_t address,
                 uint32_t mode, char *buf, size_t buflen)
{
    size_t n = 0;
    pthread_mutex_lock(&lock);
    csh h = handle_for(mode);
    cs_insn *insn = NULL;
    if (h && cs_disasm(h, bytes, len, address, 1, &insn) == 1) {
        snprintf(buf, buflen, "%s %s", insn->mnemonic, insn->op_str);
        n = insn->size;
        cs_free(insn, 1);
    } else {
        snprintf(buf, buflen, "(bad)");
    }
    pthread_mutex_unlock(&lock);
    return n;
}

void disas_log(const uint8_t *bytes, size_t len, uint64_t address, uint32_t mode)
{
    char text[160], hex[48];
    disas_one(bytes, len, address, mode, text, sizeof(text));
    size_t pos = 0;
    for (size_t i = 0; i < len && pos + 3 < sizeof(hex); i++)
        pos += (size_t)snprintf(hex + pos, sizeof(hex) - pos, "%02x", bytes[i]);
    log_printf("0x%08llx:  %-30s %s\n", (unsigned long long)address, hex, text);
}
