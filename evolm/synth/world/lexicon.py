"""The English lexicon of the synthetic world: word lists by category.

A 1M-16M parameter model learns a narrow template language in a few hundred thousand tokens and
then stops improving. A large open lexicon (about two thousand base words, each also inflected)
drawn with Zipf-like frequencies keeps the text's entropy high enough that loss goes on falling
for millions of tokens, the way it does on real web text. Lists are plain strings so the file
stays readable; `word_list` splits them and drops duplicates while keeping order (order matters:
it fixes the seeded rank of each word). Inflection (plurals, past tenses) is in `evolm.synth.text`.
"""

from __future__ import annotations

from evolm.synth.text import word_list


# Countable, concrete things (the grammar pluralizes them).
THINGS = word_list("""
apple arch anchor axe bag ball banner barn barrel basket bead beam bell bench blade blanket boat
bone book boot bottle bowl box branch brick bridge bucket bundle button cabin cage cake candle canoe
cap card cart castle cave chain chair chest chimney clock cloak cloud coat coin collar column compass
cottage crate crown cup curtain cushion desk diary dish door drum egg engine fan feather fence field
flag flask flute fork fountain garden gate gem glove goblet hammer harp hat helmet hill hive hook horn
house hut jar jug kettle key knife ladder lamp lantern leaf ledger letter lever lid lock loom map mask
mast meadow medal mill mirror mountain mug nail needle nest net notebook oar orchard oven paddle pail
painting pan parcel path pearl pebble pen pencil pillar pipe plank plate plough pocket pole pond pot
pouch pump quill rake ribbon ring road robe rock rod roof rope rug sack saddle sail scarf scroll seed
shawl shed shelf shell shield ship shoe shovel sickle sign sled sleeve slipper spade spear spindle
spoon stable staff stair stamp statue stick stone stool stove street string sword table tablet tent
thread tile tool torch tower toy trap tray tree trough trumpet trunk tunnel vase vessel violin wagon
wall wand well wheel whistle window wing wire workshop yard bicycle camera radio telescope microscope
thermometer battery kite puzzle marble ruler eraser backpack umbrella pillow mattress blanket carpet
bracelet necklace brooch buckle barrow anvil bellows chisel saw drill wrench funnel ladle sieve
churn kiln furnace cauldron crucible beaker lens prism pendulum sundial hourglass abacus globe atlas
almanac calendar chart diagram sketch portrait mural fresco tapestry quilt banner pennant trophy
chalice lute fiddle cello piano organ bagpipe tambourine cymbal gong rattle bow arrow quiver lance
dagger hatchet mallet pickaxe crowbar lantern beacon buoy raft barge ferry schooner galley rowboat
dinghy carriage coach cart sleigh tram lorry tractor crane pulley winch ladder scaffold pavilion
gazebo cellar attic balcony porch terrace courtyard cloister chapel shrine altar tomb monument
obelisk fountain aqueduct dam dike levee pier wharf jetty quay breakwater lighthouse windmill
watermill granary silo haystack scarecrow hedge ditch furrow terrace vineyard grove thicket copse
boulder pebble crystal geode fossil nugget ingot coil spool skein bolt hinge latch bracket rivet
spring gear cog axle spoke rim hub sprocket valve nozzle hose bucket cistern basin tub kettle teapot
saucer platter tureen pitcher decanter carafe tankard flagon canteen lunchbox hamper satchel
briefcase suitcase trunk wallet purse envelope stamp postcard parcel telegram pamphlet booklet
leaflet poster placard notice ticket receipt invoice voucher token badge emblem crest seal
""")

# People, by occupation or relation (countable).
PEOPLE = word_list("""
farmer teacher merchant sailor miner weaver baker potter carpenter blacksmith fisherman shepherd
soldier scholar student traveller pilgrim priest monk healer doctor nurse judge mayor clerk scribe
poet painter sculptor musician singer dancer actor builder mason engineer gardener hunter trapper
trader banker tailor cobbler brewer miller butcher cook innkeeper guard captain pilot driver courier
messenger child parent grandmother grandfather neighbour villager citizen stranger guide ranger
keeper librarian historian astronomer chemist botanist geologist mapmaker explorer inventor writer
reporter editor printer clockmaker glassblower jeweller locksmith herder beekeeper orphan widow
apprentice servant queen king prince princess duke governor ambassador envoy minister senator
councillor magistrate lawyer notary accountant surveyor architect draughtsman mechanic technician
electrician plumber roofer thatcher wheelwright cooper tanner dyer spinner knitter seamstress
embroiderer milliner hatter barber surgeon dentist midwife pharmacist herbalist apothecary
veterinarian zookeeper falconer groom stableboy coachman porter steward butler housekeeper maid
nanny tutor professor lecturer dean principal headmaster schoolchild pupil scholar novice elder
chieftain warrior archer knight squire herald minstrel bard jester acrobat juggler magician
storyteller playwright novelist essayist journalist photographer cartographer navigator helmsman
boatswain deckhand harbourmaster lighthouse-keeper ferryman diver whaler sealer forester woodcutter
lumberjack charcoal-burner quarryman stonecutter bricklayer plasterer glazier painter-decorator
""")

# Kinds of place (countable).
PLACES = word_list("""
village town city harbour port market square valley plain plateau forest woodland marsh swamp
desert coast shore beach island cliff canyon ridge peak glacier lake bay delta estuary highland
lowland meadow pasture farm ranch estate palace temple monastery library school university hospital
museum theatre factory mine quarry warehouse station canal dock fortress camp hamlet settlement
province district county parish borough suburb quarter neighbourhood alley lane avenue boulevard
crossroads junction ford pass gorge ravine gully hollow dell glen moor heath fen bog lagoon reef
archipelago peninsula headland cape promontory strait channel inlet cove creek brook stream spring
waterfall rapids oasis dune steppe savanna prairie tundra jungle rainforest grove orchard vineyard
garden park cemetery observatory laboratory academy seminary college court prison barracks arsenal
shipyard mill tannery brewery bakery smithy forge workshop studio gallery bazaar fair inn tavern
hostel lodge cabin manor castle citadel tower gatehouse bridge causeway tunnel mine
""")

# Uncountable or abstract nouns (never pluralized).
ABSTRACTS = word_list("""
knowledge wisdom patience courage music history science trade farming weather rain snow wind silence
laughter poetry justice freedom labour industry commerce learning memory tradition custom harvest
hunger travel fortune luck honour pride grief joy hope fear trust peace war friendship kindness
skill craft medicine law mathematics astronomy chemistry geography literature philosophy religion
architecture agriculture navigation engineering education health wealth poverty progress
discipline loyalty curiosity generosity hospitality diplomacy politics economics botany geology
zoology biology physics anatomy surgery pottery weaving carpentry masonry metalwork glasswork
shipbuilding printing bookbinding calligraphy painting sculpture dance drama theatre folklore
mythology ritual ceremony worship prayer meditation rest leisure play sport hunting fishing
herding irrigation drainage erosion pollution conservation migration settlement colonisation
exploration discovery invention innovation research study practice training experience advice
evidence information news gossip rumour doubt certainty confusion clarity order chaos harmony
balance strength weakness speed endurance warmth cold heat light darkness shade moisture drought
fog mist frost thunder lightning sunshine moonlight starlight twilight dawn dusk midnight noon
""")

ADJECTIVES = word_list("""
ancient old young new small large tiny huge narrow wide deep shallow high low long short heavy light
bright dark pale vivid warm cold hot cool dry wet damp muddy dusty clean dirty quiet loud silent
noisy calm wild gentle fierce brave timid clever wise foolish kind cruel honest proud humble rich
poor busy idle famous unknown strange familiar common rare simple complex plain fancy rough smooth
soft hard sharp blunt bitter sweet sour salty fresh stale ripe green golden silver wooden stone iron
copper woven painted carved broken hidden secret open empty full crowded lonely distant nearby
northern southern eastern western central coastal rural urban royal sacred steep flat rocky sandy
grassy leafy snowy icy foggy misty stormy sunny windy rainy frozen bare lush fertile barren remote
hollow crooked straight round square tall slender sturdy fragile delicate elegant modest grand
splendid ordinary curious careful careless eager patient anxious cheerful gloomy merry weary sleepy
hungry thirsty healthy sick strong weak swift slow early late ornate sombre solemn festive lively
dull shiny glossy faded tattered worn polished rusty mossy thorny fragrant pungent spicy savoury
bland crisp tender juicy dried smoked roasted salted pickled sacred holy humid arid tropical
temperate polar alpine fragrant bustling sleepy peaceful troubled prosperous struggling famous
notorious generous stingy thrifty wasteful loyal faithful treacherous cunning gullible skilled
clumsy graceful awkward nimble sturdy robust feeble massive miniature vast boundless endless brief
sudden gradual steady fickle constant frequent occasional annual seasonal daily nightly ancient
medieval modern traditional local foreign native exotic wealthy humble noble common public private
official informal formal strict lenient harsh mild severe bleak cosy spacious cramped airy stuffy
dim radiant gleaming glittering sparkling dusky shadowy murky clear transparent opaque thick thin
dense sparse coarse fine silky velvety woolly leathery brittle flexible rigid elastic sticky
slippery jagged curved twisted knotted tangled braided striped spotted speckled mottled plain
scarlet crimson amber ivory azure emerald violet indigo ochre russet tawny
""")

# Transitive verbs in base form; irregular past tenses are listed below.
VERBS = word_list("""
build carry paint carve repair visit study describe measure count gather collect plant harvest trade
sell buy weave mend clean open close guard follow watch record map explore cross climb reach find
lose keep hold lift pull push throw catch fill empty cook bake brew grind polish sharpen load unload
deliver send receive write read copy translate teach learn remember forget praise admire defend
protect feed raise train tame hunt chase cut burn light shape forge sew knit stitch dig drain water
plough sow store pack wrap tie sort weigh name invite greet thank help serve join leave enter design
invent improve test observe examine compare discover preserve restore decorate celebrate honour
respect bring make take give see draw know tell show hide seek borrow lend owe share split divide
mix stir pour boil roast fry slice chop peel squeeze press fold bend break fix tighten loosen fasten
unlock lock ring strike beat shake wave raise lower mark label stamp sign seal fetch haul drag tow
steer row sail anchor moor launch board inspect survey chart sketch photograph paint frame hang
arrange organise plan prepare finish begin start continue repeat practise rehearse perform sing
play recite announce report publish print bind illustrate edit review judge reward punish forgive
welcome host entertain amuse comfort warn advise guide lead command obey accept refuse choose
select prefer enjoy fear doubt trust believe question answer solve explain prove predict estimate
calculate grow water prune graze milk shear spin dye tan stitch patch darn embroider knot braid
""")

INTRANSITIVE = word_list("""
travel arrive wait rest sleep sing dance laugh work sail wander settle grow flourish decline rise
fall flow shine bloom fade vanish return depart pray fight march hurry linger pause listen speak
whisper shout argue agree gather swim climb glide drift float sink freeze melt thaw glow flicker
rustle echo tremble shiver sigh smile weep celebrate feast fast hunt graze nest migrate hibernate
breed sprout wither ripen spread shrink expand prosper struggle recover
""")

ADVERBS = word_list("""
quickly slowly carefully quietly loudly often rarely always seldom usually gladly eagerly patiently
happily sadly bravely wisely gently firmly proudly together alone early later soon again nearly
almost barely hardly easily freely openly secretly suddenly gradually steadily briefly finally
eventually immediately recently formerly regularly occasionally frequently constantly daily weekly
yearly silently swiftly calmly warmly kindly politely rudely boldly humbly honestly fairly
generously cheerfully anxiously nervously curiously skilfully clumsily neatly roughly smoothly
""")

# Goods a country can export or a shop can sell (uncountable or mass nouns).
GOODS = word_list("""
copper tin iron silver gold salt amber timber wool cotton silk linen flax hemp tea coffee cocoa rice
wheat barley oats olives dates figs grapes honey wax marble granite slate clay glass paper ink
pepper saffron cinnamon indigo leather furs pearls coral sugar rubber cork resin coal jade
porcelain lead zinc nickel quartz sulphur lime soap cheese butter vinegar cider rum lentils beans
millet maize rye almonds walnuts chestnuts apricots plums cherries lemons oranges melons
""")

# What animals eat (food words; plural mass nouns).
FOODS = word_list("""
insects seeds fish berries leaves roots snails worms fruit grass nectar frogs mice beetles moss bark
acorns crabs shrimp eggs mushrooms lizards algae clams nuts flowers reeds plankton moths
""")

HABITATS = (
    "dense forests", "rocky coasts", "open grasslands", "high mountains", "dry deserts",
    "reed marshes", "river valleys", "deep caves", "frozen tundra", "bamboo thickets",
    "mangrove swamps", "pine woods", "sandy islands", "cold lakes", "warm lagoons",
)
COLOURS = (
    "red", "orange", "yellow", "green", "blue", "purple", "white", "black", "grey", "brown",
    "golden", "silver", "pink", "crimson", "amber", "ivory", "scarlet", "teal", "violet", "copper",
)
# Mutually exclusive on purpose: SynthFacts asks "a country with an arid climate?", so no two
# entries may be near-synonyms (no "dry" beside "arid").
CLIMATES = (
    "arid", "temperate", "tropical", "polar", "alpine", "continental", "oceanic", "monsoon",
    "steppe", "subarctic",
)
ROLES = (
    "explorer", "astronomer", "chemist", "poet", "painter", "botanist", "mathematician",
    "composer", "architect", "physician", "historian", "engineer",
)
PLANT_USES = (
    "making blue dye", "making red dye", "weaving baskets", "brewing tea", "treating fevers",
    "healing wounds", "making rope", "making paper", "flavouring bread", "making perfume",
    "feeding cattle", "making soap", "thatching roofs", "making ink",
)
ELEMENT_STATES = ("metal", "gas", "liquid", "crystal", "powder")
CRAFTS = (
    "glassmaking", "shipbuilding", "weaving", "pottery", "clockmaking", "its silk markets",
    "its old university", "its spring festival", "its stone bridges", "its harbour",
    "bookbinding", "its paper mills", "cheese making", "its horse fairs", "its lighthouse",
    "its copper mines", "its rose gardens", "its music school", "its observatory", "tanning",
)
